"""Seeds of the randomized tests: BULWARK_TEST_SEED, when set, replaces every test's
default seed, so a failure can be rerun exactly; each test prints the seed it used
(pytest shows it with the failure, or always with -s)."""
import os


def seed(default, what):
    value = os.environ.get("BULWARK_TEST_SEED")
    s = int(value) if value else default
    print(f"\n{what}: seed {s} (rerun with BULWARK_TEST_SEED={s})")
    return s
