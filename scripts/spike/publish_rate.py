"""Spike: MQTT QoS 1 publish rate into each broker, one or several publisher connections.

    .venv/bin/python -m scripts.spike.publish_rate --publishers 4
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from faultline.mosquitto_process import MosquittoProcess
from faultline.nats_process import NatsServerProcess
from scripts.spike.devices import publish_backlog


def _rate(port: int, publishers: int, devices: int, readings: int) -> float:
    began = time.monotonic()
    with ProcessPoolExecutor(publishers) as pool:
        list(pool.map(_one, [(port, devices, readings)] * publishers))
    return publishers * devices * readings / (time.monotonic() - began)


def _one(args: tuple[int, int, int]) -> float:
    port, devices, readings = args
    return publish_backlog(port, devices=devices, readings=readings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--devices", type=int, default=250)
    parser.add_argument("--readings", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with MosquittoProcess(Path(tmp) / "mosquitto") as broker:
            rate = _rate(broker.port, args.publishers, args.devices, args.readings)
            print(f"mosquitto: {args.publishers} publishers {rate:,.0f} msg/s (nobody subscribed)")
        with NatsServerProcess(Path(tmp) / "nats") as server:
            import asyncio

            import nats
            from nats.js.api import StreamConfig

            async def stream() -> None:
                nc = await nats.connect(server.url)
                await nc.jetstream().add_stream(StreamConfig(name="FAULTLINE", subjects=["part.>"]))
                await nc.close()

            asyncio.run(stream())
            rate = _rate(server.mqtt_port, args.publishers, args.devices, args.readings)
            print(f"nats: {args.publishers} publishers {rate:,.0f} msg/s (into the stream)")


if __name__ == "__main__":
    main()
