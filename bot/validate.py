"""`rasa data validate`, failing on every warning except Rasa 3.6's false positives.

Rasa cannot see responses that actions send or forms ask, nor intents that only the
console triggers (EXTERNAL_*), and it counts the `faq` retrieval intent twice. Each
allowance below is checked, not assumed: an "unused" response must be named in
actions/ or be a form question, an unknown intent must start with EXTERNAL_.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [
    str(Path(sys.executable).with_name("rasa")),
    "data",
    "validate",
    "--domain",
    "bot/domain.yml",
    "--data",
    "bot/data",
    "nlu_data/train",
    "var/nlu",
    "--config",
    "config.yml",
]
UNUSED = re.compile(r"The utterance '(utter_[\w/]+)' is not used in any story")
NO_NLU = re.compile(
    r"The intent '(\w+)' is listed in the domain file, but is not found"
)
FAQ_TWICE = "duplicated intents have been found across multiple domain files: faq"


def sent_by_code(utterance: str, code: str) -> bool:
    """Whether an action (by name or f-string prefix) or a form question sends it."""
    prefixes = re.findall(r'f"(utter_[\w/]*)\{', code)
    return (
        f'"{utterance}"' in code
        or utterance.startswith("utter_ask_")
        or any(utterance.startswith(prefix) for prefix in prefixes)
    )


def unexplained(warnings: list[str], code: str) -> list[str]:
    """The warnings that are not one of the known false positives."""
    left = []
    for warning in warnings:
        unused, no_nlu = UNUSED.search(warning), NO_NLU.search(warning)
        if unused and sent_by_code(unused.group(1), code):
            continue
        if no_nlu and no_nlu.group(1).startswith("EXTERNAL_"):
            continue
        if FAQ_TWICE in warning:
            continue
        left.append(warning)
    return left


def main() -> int:
    run = subprocess.run(COMMAND, cwd=ROOT, capture_output=True, text=True)
    output = run.stdout + run.stderr
    warnings = [line for line in output.splitlines() if "UserWarning:" in line]
    code = "\n".join(p.read_text() for p in (ROOT / "actions").glob("*.py"))
    left = unexplained(warnings, code)
    for warning in left:
        print(warning)
    if run.returncode != 0:
        print(output[-4000:])
    print(f"rasa data validate: {len(warnings)} warnings, {len(left)} unexplained")
    return 1 if run.returncode or left else 0


if __name__ == "__main__":
    sys.exit(main())
