import { lastValueFrom, tap } from 'rxjs';
import { openai, startSimulator } from '../src/index'; // in your app: from 'rx-llm-router'

async function main(): Promise<void> {
  const simulator = await startSimulator(); // OpenAI, Anthropic and Gemini wire formats on 127.0.0.1
  const gpt = openai({ apiKey: 'sk-local', baseURL: `${simulator.url}/v1` });
  const chunks$ = gpt.stream({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Why RxJS?' }],
  });
  const last = await lastValueFrom(
    chunks$.pipe(tap((c) => process.stdout.write(c.choices[0]?.delta.content ?? ''))),
  );
  console.log(`\n[${last.provider} · ${last.model}] usage:`, last.usage);
  await gpt.close();
  await simulator.close();
}
void main();
