"""One of test_load.py's concurrent users: a process of its own that signs in through real
libpam (pamdriver, in this process) again and again until a deadline, on hosts and as
accounts picked at random, answering prompts as a person would, and prints what happened
as one JSON object.

    python loadworker.py SEED  < plan.json

The plan: {"deadline": monotonic seconds, "hosts": {name: confdir}, "users": {name: password},
"pins": {"user@host": pin}}. `intent` per login: "use" (PIN when asked, "y" to an offer),
"decline" ("n" to an offer), "cancel" (an empty PIN: use the password instead)."""
import json
import random
import sys
import time

import pamdriver

OFFER = "Create a passkey for this computer? Next time you can sign in with a PIN. [Y/n/never] "
PASSWORD = "Password: "


def login(host, confdir, user, password, pin, intent):
    def respond(kind, text):
        if kind == "secret" and text == f"PIN for {user}'s passkey on {host}: ":
            return "" if intent == "cancel" else pin
        if kind == "secret" and text == PASSWORD:
            return password
        if kind == "prompt" and text == OFFER:
            return "y" if intent == "use" else "n"
        if kind == "secret" and (text.startswith("Choose a PIN") or text == "Confirm PIN: "):
            return pin
        return None  # anything else is a prompt this test did not expect: fail the login

    return pamdriver.authenticate("login", user, confdir, respond)


def classify(result, user, host):
    """passkey, append or fallback; or None when the login is not one of those shapes."""
    kinds = [k for k, _ in result.transcript]
    if not result.ok or "error" in kinds:
        return None
    if result.transcript == [("secret", f"PIN for {user}'s passkey on {host}: ")]:
        return "passkey"
    infos = result.infos
    if infos and infos[-1].startswith("Passkey created."):
        return "append"
    if ("secret", PASSWORD) in result.transcript and not any(i.startswith("No passkey was created") for i in infos):
        return "fallback"
    return None


def main():
    seed = int(sys.argv[1])
    plan = json.load(sys.stdin)
    rng = random.Random(seed)
    hosts = sorted(plan["hosts"].items())
    users = sorted(plan["users"].items())
    counts = {"passkey": 0, "append": 0, "fallback": 0}
    created, passkey_logins = {}, {}
    errors = []
    while time.monotonic() < plan["deadline"]:
        host, confdir = rng.choice(hosts)
        user, password = rng.choice(users)
        intent = rng.choices(["use", "decline", "cancel"], weights=[6, 2, 2])[0]
        key = f"{user}@{host}"
        result = login(host, confdir, user, password, plan["pins"][key], intent)
        kind = classify(result, user, host)
        if kind is None:
            errors.append(f"{key} ({intent}): {result}")
            continue
        counts[kind] += 1
        if kind == "append":
            created[key] = created.get(key, 0) + 1
        if kind == "passkey":
            passkey_logins[key] = passkey_logins.get(key, 0) + 1
    json.dump({"counts": counts, "created": created, "passkey_logins": passkey_logins, "errors": errors[:20],
               "error_count": len(errors)}, sys.stdout)


if __name__ == "__main__":
    main()
