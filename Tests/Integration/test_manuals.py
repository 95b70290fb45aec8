"""The manual pages agree with each other, with the package and with the system: one date
and one source line (the package's version, the changelog's date), the volume title
Debian's own pages of that section carry, cross-references only to pages this system has
(Debian ships pam(7), not pam(8)), and the command spelled as passkeyctl spells it."""
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = {"pam_passkey.8": 8, "passkeyctl.8": 8, "pam_passkey.conf.5.in": 5}
OURS = {("pam_passkey", "8"), ("passkeyctl", "8"), ("pam_passkey.conf", "5")}
VOLUME = {8: "System Manager's Manual", 5: "File Formats Manual"}


def page(name):
    return (ROOT / "man" / name).read_text()


def changelog(field):
    return subprocess.run(["dpkg-parsechangelog", "-l", ROOT / "Packaging/debian/changelog", "-S", field],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_every_page_has_the_release_date_source_and_its_sections_volume():
    version = (ROOT / "VERSION").read_text().strip()
    date = subprocess.run(["date", "-u", "-d", f"@{changelog('Timestamp')}", "+%Y-%m-%d"],
                          capture_output=True, text=True, check=True).stdout.strip()
    for name, section in PAGES.items():
        th = re.search(r"^\.TH (\S+) (\d) (\S+) (\"[^\"]*\"|\S+) \"([^\"]*)\"$", page(name), re.M)
        assert th, name
        assert th.group(2) == str(section), name
        assert th.group(3) == date, f"{name} is dated {th.group(3)}; the changelog's last entry {date}"
        assert th.group(4) == f'"pam_passkey {version}"', name
        assert th.group(5) == VOLUME[section], name


def test_cross_references_name_pages_this_system_has():
    for name in PAGES:
        for ref, section in re.findall(r"^\.BR ([A-Za-z0-9_.\\-]+) \((\d)\)", page(name), re.M):
            ref = ref.replace("\\-", "-")
            if (ref, section) in OURS:
                continue
            p = subprocess.run(["man", "-w", section, ref], capture_output=True, text=True)
            assert p.returncode == 0, f"{name} refers to {ref}({section}), which this system has no page for"


def test_the_commands_spelling():
    """passkeyctl enroll: the pages and the README spell it so, never "enrol"."""
    for path in [ROOT / "man" / n for n in PAGES] + [ROOT / "README.md"]:
        text = path.read_text()
        assert not re.search(r"\benrol(s|ment|ments)?\b", text, re.I), path.name
