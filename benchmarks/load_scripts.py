"""Scale-out probe: two Rasa servers that share a tracker store and a lock store each
get one message for the same conversation at the same moment; afterwards the
conversation's tracker must hold both. A lock store that lets both servers in at once
loses one of them (the second tracker save overwrites the first).

    python -m benchmarks.load_scripts --base-url http://127.0.0.1:17005 \\
        --base-url http://127.0.0.1:17006 --pairs 20

Reads the trackers through Rasa's HTTP API with its token (RASA_TOKEN or our
setting, as bot/serve.sh starts Rasa). Prints one JSON line; exits 1 if any
conversation lost a message.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from typing import Annotated, Any

import httpx
import typer

from benchmarks.load import REST_PATH, LoadError, loopback_url
from crm.settings import get_settings

TEXTS = ("hello", "where is my order?")


async def pair(
    client: httpx.AsyncClient, servers: tuple[str, str], sender: str, token: str | None
) -> bool:
    """Send the two messages at once, one to each server; True if both were kept."""
    await asyncio.gather(
        *(
            client.post(url + REST_PATH, json={"sender": sender, "message": text})
            for url, text in zip(servers, TEXTS, strict=True)
        )
    )
    params = {"token": token} if token else None
    reply = await client.get(
        f"{servers[0]}/conversations/{sender}/tracker", params=params
    )
    reply.raise_for_status()
    events: list[dict[str, Any]] = reply.json().get("events") or []
    kept = Counter(str(e.get("text")) for e in events if e.get("event") == "user")
    return not Counter(TEXTS) - kept


async def simultaneous_pairs(
    servers: tuple[str, str], *, pairs: int, timeout: float, token: str | None = None
) -> dict[str, Any]:
    """Run `pairs` pairs, one after the other; how many lost a message."""
    run = uuid.uuid4().hex[:8]
    lost = errors = 0
    async with httpx.AsyncClient(timeout=timeout) as client:
        for number in range(pairs):
            try:
                lost += not await pair(client, servers, f"pair-{run}-{number}", token)
            except httpx.HTTPError:
                errors += 1
    return {
        "probe": "simultaneous_pairs",
        "servers": list(servers),
        "pairs": pairs,
        "conversations_missing_a_message": lost,
        "errors": errors,
    }


def main(
    base_url: Annotated[
        list[str], typer.Option(help="Two Rasa servers, loopback only.")
    ],
    pairs: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 120.0,
    token: Annotated[
        str | None,
        typer.Option(envvar="RASA_TOKEN", help="Rasa's --auth-token (default: ours)."),
    ] = None,
) -> None:
    """Send simultaneous pairs to two servers; print how many messages were lost."""
    try:
        if len(base_url) != 2:
            raise LoadError("give exactly two --base-url")
        servers = (loopback_url(base_url[0]), loopback_url(base_url[1]))
    except LoadError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    result = asyncio.run(
        simultaneous_pairs(
            servers,
            pairs=pairs,
            timeout=timeout,
            token=token or get_settings().rasa_token,
        )
    )
    typer.echo(json.dumps(result))
    if result["conversations_missing_a_message"] or result["errors"]:
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
