"""Many transactions in one long-lived process (a screen locker or a display manager lives
for months): 10,000 pam_start/pam_authenticate/pam_end cycles, each one loading the module
(dlopen) and unloading it (dlclose) through libpam. No crash, every result right; the RSS
growth is printed.

pam_passkey.so is linked -z nodelete: dlclose leaves it mapped, so the Swift runtime inside
initialises once per process. Without that flag every cycle re-initialised it and leaked
about 10 kB (108 MB over these 10,000 cycles)."""
import ctypes

import pamdriver

CYCLE_STACK = """auth  [success=done default=ignore]  {module} conf={conf}
auth  required                       pam_permit.so
"""


def rss_kb() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def module_mappings() -> int:
    return sum("pam_passkey.so" in line or "libpam_passkey.so" in line for line in open("/proc/self/maps"))


def test_ten_thousand_transactions(fleet, make_account, capsys):
    a = fleet.host("host-a")
    a.set_stack(CYCLE_STACK, service="cycle")
    user = make_account("cyc")

    def cycle():
        # A remote session: the module reads the policy and the registry and steps aside
        # without starting the helper, so the loop measures the module itself.
        r = pamdriver.authenticate("cycle", user.name, a.confdir, [], rhost="203.0.113.9", setcred=False)
        assert r.status == pamdriver.PAM_SUCCESS and r.transcript == [], r

    for _ in range(200):
        cycle()
    mapped = module_mappings()
    assert mapped > 0, "the module stays mapped (-z nodelete)"
    start = rss_kb()
    for _ in range(10_000):
        cycle()
    growth = rss_kb() - start
    with capsys.disabled():
        print(f"\n10,000 load/authenticate/unload cycles: RSS {start} kB -> {start + growth} kB (growth {growth} kB)")
    assert module_mappings() == mapped, "one copy of the module, however many loads"
