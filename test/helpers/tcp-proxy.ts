/**
 * A TCP proxy in front of a server (Redis, here) that a test can cut and restore: cut closes
 * every connection through it and refuses new ones, as an unreachable server would.
 */
import net from 'node:net';
import { onTestFinished } from 'vitest';

export interface TcpProxy {
  /** host:port of the proxy. */
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
}

export async function tcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {}); // cut on purpose: the other side is destroyed below
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  let open = true;

  const cut = async () => {
    if (!open) return;
    open = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  onTestFinished(cut);
  return {
    port,
    cut,
    async restore() {
      if (open) return;
      await listen(port);
      open = true;
    },
  };
}
