# asyncio task switching: 100 pairs of tasks ping-pong 300 messages each
# through asyncio.Queues (60000 hand-offs, each a task switch through the
# event loop's ready queue), then 2000 echo round trips over a local TCP
# connection with asyncio's streams (each a wait in the selector).
import asyncio

PAIRS = 100
MESSAGES = 300
ECHOES = 2000


async def ping(inbox, outbox):
    for i in range(MESSAGES):
        await outbox.put(i)
        await inbox.get()


async def pong(inbox, outbox):
    total = 0
    for _ in range(MESSAGES):
        total += await inbox.get()
        await outbox.put(None)
    return total


async def echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
    writer.close()


async def main():
    results = []
    tasks = []
    for _ in range(PAIRS):
        a, b = asyncio.Queue(), asyncio.Queue()
        tasks.append(asyncio.create_task(ping(a, b)))
        tasks.append(asyncio.create_task(pong(b, a)))
    results = await asyncio.gather(*tasks)
    switched = sum(r for r in results if r is not None)

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    echoed = 0
    for i in range(ECHOES):
        writer.write(b"%d\n" % i)
        echoed += int(await reader.readline())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print(switched, echoed)


asyncio.run(main())
