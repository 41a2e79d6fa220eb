import { fork, type ChildProcess } from 'node:child_process';

/** Any reply a child sends: `failed` is turned into a rejection. */
type Reply = { type: string } & ({ type: 'failed'; message: string } | object);

/**
 * A child process of the gateway benchmark, spoken to over IPC one command at a time. Every wait
 * has a timeout, an exit rejects the wait in progress, and `stop` ends the process for sure
 * (`SIGKILL` by its pid if it does not exit by itself).
 */
export class BenchChild<Command extends { type: string }, R extends Reply> {
  private readonly child: ChildProcess;
  private readonly inbox: R[] = [];
  private waiter: { resolve(reply: R): void; reject(error: Error): void } | undefined;
  private exited: Error | undefined;
  private readonly exit: Promise<void>;

  constructor(
    readonly name: string,
    file: string,
    args: string[],
    execArgv: string[] = [],
  ) {
    // execArgv must be set: by default a fork inherits tsx's loader flags from the orchestrator.
    this.child = fork(file, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: R) => {
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter === undefined) this.inbox.push(message);
      else if (message.type === 'failed') waiter.reject(this.failure(message));
      else waiter.resolve(message);
    });
    this.exit = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = new Error(
          `${name}: the process exited (${signal ?? `code ${String(code)}`}) while the bench waited for it`,
        );
        this.waiter?.reject(this.exited);
        this.waiter = undefined;
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private failure(message: R): Error {
    return new Error(`${this.name} failed: ${'message' in message ? message.message : ''}`);
  }

  /** The next reply, of the type expected. */
  async next<T extends R['type']>(type: T, timeoutMs: number): Promise<Extract<R, { type: T }>> {
    const queued = this.inbox.shift();
    const reply =
      queued ??
      (await new Promise<R>((resolve, reject) => {
        if (this.exited !== undefined) {
          reject(this.exited);
          return;
        }
        const timer = setTimeout(() => {
          this.waiter = undefined;
          reject(new Error(`${this.name}: no '${type}' reply within ${timeoutMs} ms`));
        }, timeoutMs);
        this.waiter = {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
      }));
    if (reply.type === 'failed') throw this.failure(reply);
    if (reply.type !== type)
      throw new Error(`${this.name}: expected '${type}', got '${reply.type}'`);
    return reply as Extract<R, { type: T }>;
  }

  send(command: Command): void {
    if (this.exited !== undefined) throw this.exited;
    this.child.send(command);
  }

  /** Sends `command` and waits for a reply of type `type`. */
  async request<T extends R['type']>(
    command: Command,
    type: T,
    timeoutMs: number,
  ): Promise<Extract<R, { type: T }>> {
    this.send(command);
    return this.next(type, timeoutMs);
  }

  /**
   * Asks the child to close (`command`, answered by `closed`), then waits for it to exit; kills
   * it if either takes longer than `timeoutMs`. Returns the `closed` reply, if one came.
   */
  async stop<T extends R['type']>(
    command: Command,
    type: T,
    timeoutMs: number,
  ): Promise<Extract<R, { type: T }> | undefined> {
    let closed: Extract<R, { type: T }> | undefined;
    if (this.exited === undefined && this.child.connected) {
      try {
        closed = await this.request(command, type, timeoutMs);
      } catch (error) {
        console.error(`${this.name}: ${String(error)}`);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      this.exit.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          resolve(false);
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!exited) {
      console.error(
        `${this.name}: did not exit within ${timeoutMs} ms; killing pid ${String(this.pid)}`,
      );
      this.kill();
      await this.exit;
    }
    return closed;
  }

  /** Kills the process now (this child only, by its pid). */
  kill(): void {
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }
}
