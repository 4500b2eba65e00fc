"""`python -m tracker`: each command on a real ledger, its output and its exit code."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.builders import ledger_csv, row
from tracker.cli import main
from tracker.db import PROJECT_ROOT


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_seed_stats(ledger_url: str, capsys):
    assert run(capsys, "init")[0] == 0
    code, out, _ = run(capsys, "seed")
    assert (code, out) == (
        0,
        (
            "Import #1: us-ukraine-drone-deal.csv: 29 rows read; added 14 events, 1 new deal, "
            "0 deals updated, 13 sources, 18 parties; 4 rows already in the ledger (skipped).\n"
        ),
    )
    code, out, _ = run(capsys, "stats")
    assert code == 0
    assert out.splitlines()[1:8] == [
        "  deals: 1",
        "  events: 14",
        "  sources: 13",
        "  parties: 18",
        "  source links: 20",
        "  imports: 1",
        "Deals by stage:",
    ]
    assert "  negotiating: 1" in out.splitlines()


def test_import_dry_run_then_commit_then_undo(ledger_url: str, tmp_path: Path, capsys):
    path = tmp_path / "update.csv"
    path.write_bytes(ledger_csv(row()))
    code, out, _ = run(capsys, "import", str(path), "--dry-run")
    assert (code, out.splitlines()[0]) == (
        0,
        (
            "update.csv: 1 row read; would add 1 event, 1 new deal, 0 deals "
            "updated, 1 source, 2 parties; 0 rows already in the ledger (skipped)."
        ),
    )
    code, out, _ = run(capsys, "import", str(path), "--editor", "alice")
    assert (code, out.split(":")[0]) == (0, "Import #1")
    code, out, _ = run(capsys, "imports")
    assert out.startswith("#1 ") and out.rstrip().endswith(
        "update.csv (ledger-csv) by alice: 1 events, 1 new deals"
    )
    code, out, _ = run(capsys, "undo", "1", "--editor", "bob")
    assert (code, out) == (
        0,
        "Undid import #1 (update.csv): removed 1 event and 1 deal; restored the attributes of 0 deals.\n",
    )


def test_rejected_import_exits_1_listing_every_problem(ledger_url: str, tmp_path: Path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(ledger_csv(row(date="03/04/2025"), row(stage="maybe")))
    code, out, err = run(capsys, "import", str(path))
    assert (code, out, err.splitlines()) == (
        1,
        "",
        [
            "error: 2 problem(s); nothing was imported.",
            (
                '  line 2, column date: "03/04/2025" is ambiguous: day and month order is unknown. '
                "Write it as 2025-04-03 or 2025-03-04."
            ),
            (
                '  line 3, column stage: unknown stage "maybe". Use one of: announced, negotiating, '
                "agreed, approved, contracted, delivering, completed, stalled, cancelled (or leave it "
                "empty when the stage does not change)."
            ),
        ],
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("import", "no-such-file.csv"), "error: no-such-file.csv is not a file.\n"),
        (("undo", "42"), "error: there is no import #42; `python -m tracker imports` lists them.\n"),
        (
            ("export", "--country", "Atlantis"),
            'error: unknown country "Atlantis". Use a country name or an ISO 3166 code such as UKR.\n',
        ),
        (
            ("export", "--since", "03/04/2025"),
            (
                'error: "03/04/2025" is ambiguous: day and month order is unknown. '
                "Write it as 2025-04-03 or 2025-03-04.\n"
            ),
        ),
    ],
)
def test_user_errors_are_one_line_and_exit_1(ledger_url: str, capsys, args, message):
    assert run(capsys, *args) == (1, "", message)


def test_export_csv_with_filters(ledger_url: str, tmp_path: Path, capsys):
    run(capsys, "seed")
    output = tmp_path / "out.csv"
    code, _, err = run(
        capsys,
        "export",
        "--country",
        "Ukraine",
        "--role",
        "seller",
        "--since",
        "2025-10",
        "--output",
        str(output),
    )
    lines = output.read_text(encoding="utf-8-sig").splitlines()
    # 7 event–source rows since October, and 12 rows for the deal's parties named by earlier events (the
    # export keeps a deal's parties with it, on its first row's event).
    assert (code, err, len(lines)) == (
        0,
        f"Deals with Ukraine as seller, since 2025-10-01: 19 rows written to {output}.\n",
        20,
    )
    assert lines[1].startswith(
        "us-ukraine-drone-deal,US–Ukraine Drone Deal,2025-09-29/2025-10-02,negotiating,"
    )
    code, _, err = run(capsys, "export", "--country", "Ukraine", "--role", "buyer", "--output", str(output))
    assert (code, len(output.read_text(encoding="utf-8-sig").splitlines())) == (0, 1)


def test_export_xlsx(ledger_url: str, tmp_path: Path, capsys):
    run(capsys, "seed")
    output = tmp_path / "out.xlsx"
    assert run(capsys, "export", "--format", "xlsx", "--output", str(output))[0] == 0
    workbook = load_workbook(io.BytesIO(output.read_bytes()))
    assert (workbook.sheetnames, workbook["ledger rows"].max_row, workbook["parties"].max_row) == (
        ["ledger rows", "parties", "about"],
        26,
        21,
    )


def test_backup_copies_a_sqlite_ledger(ledger_url: str, tmp_path: Path, capsys):
    if not ledger_url.startswith("sqlite"):
        code, _, err = run(capsys, "backup", str(tmp_path / "b.db"))
        assert (
            code,
            err.startswith("error: backup copies SQLite ledgers only; for PostgreSQL use pg_dump"),
        ) == (1, True)
        return
    run(capsys, "seed")
    code, out, _ = run(capsys, "backup", str(tmp_path / "b.db"))
    assert (code, out) == (0, f"Backed up to {tmp_path / 'b.db'}.\n")
    assert (
        run(capsys, "--database", f"sqlite:///{tmp_path / 'b.db'}", "stats")[1].splitlines()[2]
        == "  events: 14"
    )
    assert run(capsys, "backup", str(tmp_path / "b.db")) == (
        1,
        "",
        f"error: {tmp_path / 'b.db'} already exists; choose a new file name.\n",
    )


def test_hash_password_from_stdin(monkeypatch, capsys):
    from tracker.auth import verify_password

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    code, out, _ = run(capsys, "hash-password", "alice", "--password-stdin")
    name, _, quoted = out.strip().partition(" = ")
    assert (code, name, verify_password("correct horse battery", quoted.strip('"'))) == (0, "alice", True)


def test_hash_password_without_a_terminal_points_to_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("piped\n"))  # not a terminal
    code, out, err = run(capsys, "hash-password", "alice")
    assert (code, out) == (1, "")
    expected = (
        "error: there is no terminal to ask for the password; pipe it in with --password-stdin "
        "(printf '%s' \"$PASSWORD\" | python -m tracker hash-password alice --password-stdin)."
    )
    assert err.strip().splitlines() == [expected]


@pytest.mark.parametrize(
    ("command", "name", "shown"),
    [
        ("add-editor", "bob", "bob"),  # the example names the command that was run
        ("hash-password", "bob o'neill", "'bob o'\"'\"'neill'"),  # a name quoted for the shell
    ],
)
def test_without_a_terminal_the_message_names_the_command_run(
    monkeypatch, capsys, tmp_path: Path, command: str, name: str, shown: str
):
    monkeypatch.setattr("sys.stdin", io.StringIO("piped\n"))  # not a terminal
    secrets = tmp_path / "secrets.toml"
    options = ["--secrets", str(secrets)] if command == "add-editor" else []
    code, out, err = run(capsys, command, name, *options)
    assert (code, out, secrets.exists()) == (1, "", False)
    expected = (
        "error: there is no terminal to ask for the password; pipe it in with --password-stdin "
        f"(printf '%s' \"$PASSWORD\" | python -m tracker {command} {shown} --password-stdin)."
    )
    assert err.strip().splitlines() == [expected]


def test_every_command_has_an_example_in_its_help():
    for command in (
        "init",
        "seed",
        "import",
        "undo",
        "imports",
        "export",
        "stats",
        "backup",
        "hash-password",
    ):
        result = subprocess.run(
            [sys.executable, "-m", "tracker", command, "--help"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"example: python -m tracker {command}" in result.stdout


def test_import_lists_the_stages_it_moves_and_the_attributes_it_changes(
    ledger_url: str, tmp_path: Path, capsys
):
    run(capsys, "seed")
    path = tmp_path / "update.csv"
    path.write_bytes(
        ledger_csv(
            row(
                deal_id="us-ukraine-drone-deal",
                deal_title="",
                category="Drones",
                date="2025-10-20",
                summary="Recategorised.",
                stage="agreed",
            )
        )
    )
    code, out, _ = run(capsys, "import", str(path), "--dry-run")
    assert (code, out.splitlines()[1:]) == (
        0,
        [
            "Deal stages would move (1):",
            "  us-ukraine-drone-deal: negotiating -> agreed",
            "Deal attributes would change (1):",
            "  us-ukraine-drone-deal: category 'UAV' -> 'Drones'",
        ],
    )
    code, out, _ = run(capsys, "import", str(path))
    assert (code, out.splitlines()[1:]) == (
        0,
        [
            "Deal attributes changed (1):",
            "  us-ukraine-drone-deal: category 'UAV' -> 'Drones'",
        ],
    )


def test_import_lists_the_first_twenty_changes_and_counts_the_rest(ledger_url: str, tmp_path: Path, capsys):
    deals = [f"deal-{number:02}" for number in range(22)]
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_bytes(ledger_csv(*(row(deal_id=deal, category="UAV", stage="announced") for deal in deals)))
    second.write_bytes(
        ledger_csv(
            *(
                row(
                    deal_id=deal,
                    deal_title="",
                    category="Drones",
                    date="2025-10-20",
                    summary="Agreed.",
                    stage="agreed",
                )
                for deal in deals
            )
        )
    )
    run(capsys, "import", str(first))
    code, out, _ = run(capsys, "import", str(second), "--dry-run")
    lines = out.splitlines()
    moves, changes = (
        lines.index("Deal stages would move (22):"),
        lines.index("Deal attributes would change (22):"),
    )
    assert (code, lines[moves + 1], lines[moves + 20], lines[moves + 21]) == (
        0,
        "  deal-00: announced -> agreed",
        "  deal-19: announced -> agreed",
        "  … and 2 more",
    )
    assert lines[changes + 1 :] == [
        *(f"  deal-{number:02}: category 'UAV' -> 'Drones'" for number in range(20)),
        "  … and 2 more",
    ]


def test_add_editor_writes_the_secrets_file_the_dashboard_reads(monkeypatch, tmp_path: Path, capsys):
    from tracker.auth import editors_from_secrets, verify_password

    secrets = tmp_path / ".streamlit" / "secrets.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    code, out, _ = run(capsys, "add-editor", "alice", "--password-stdin", "--secrets", str(secrets))
    assert (code, out) == (
        0,
        f"Editor alice added in {secrets}. Reload the dashboard's pages to log in with it.\n",
    )
    first = editors_from_secrets(tomllib.loads(secrets.read_text()))["alice"]
    assert (verify_password("correct horse battery", first), oct(secrets.stat().st_mode & 0o777)) == (
        True,
        "0o600",
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    code, out, _ = run(capsys, "add-editor", "alice", "--password-stdin", "--secrets", str(secrets))
    assert (code, out.split(" in ")[0]) == (0, "Editor alice has a new password")
    assert verify_password(
        "another long password", editors_from_secrets(tomllib.loads(secrets.read_text()))["alice"]
    )


BAD_NAME = 'error: an editor name is letters, digits, "-" and "_" (at most 100 characters).\n'


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("al ice", "correct horse battery", BAD_NAME),
        ("alice", "short", "error: use a password of at least 10 characters.\n"),
    ],
)
def test_add_editor_refuses_bad_names_and_short_passwords(
    monkeypatch, tmp_path: Path, capsys, name, password, message
):
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    code, out, err = run(capsys, "add-editor", name, "--password-stdin", "--secrets", str(secrets))
    assert (code, out, err, secrets.exists()) == (1, "", message, False)


def test_retract_and_regrade_from_the_command_line(ledger_url: str, capsys):
    run(capsys, "seed")
    code, out, _ = run(capsys, "retract", "14", "--reason", "Not a deal event.", "--editor", "alice")
    assert (code, out) == (
        0,
        (
            "Retracted event #14 of us-ukraine-drone-deal (2025-10-17: White House meeting: Zelensky "
            "offers drones in exchange for…) as change #2. Undo it with `python -m tracker undo 2`.\n"
        ),
    )
    code, _, err = run(capsys, "retract", "14", "--reason", "Again.")
    when = re.search(r"retracted on (\S+ \S+) by", err)
    assert (code, err) == (
        1,
        (
            f"error: event #14 cannot be retracted: it was retracted on {when and when.group(1)} by "
            "alice (change #2). Undo that change first to bring it back.\n"
        ),
    )
    code, out, _ = run(capsys, "regrade", "1", "a", "--reason", "Confirmed.", "--editor", "alice")
    assert (code, out) == (
        0,
        "Regraded LIGA.net (source #1) from B to A as change #3. Undo it with `python -m tracker undo 3`.\n",
    )
    code, _, err = run(capsys, "regrade", "1", "Z", "--reason", "x")
    assert (code, err) == (
        1,
        (
            'error: "Z" is not a source reliability grade. Use a letter A (completely reliable) to F '
            "(cannot be judged), the NATO Admiralty code.\n"
        ),
    )
    code, out, _ = run(capsys, "imports")
    assert [line.split(" by ")[0].split(" ", 3)[-1] for line in out.splitlines()[:2]] == [
        "regrade of source #1 (LIGA.net) (regrade)",
        "retraction of event #14 (us-ukraine-drone-deal) (retraction)",
    ]


def test_the_new_commands_have_an_example_in_their_help():
    for command in ("add-editor", "retract", "regrade"):
        result = subprocess.run(
            [sys.executable, "-m", "tracker", command, "--help"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"example: python -m tracker {command}" in result.stdout


def test_brief_of_a_deal_as_html_and_docx(ledger_url: str, tmp_path: Path, capsys):
    run(capsys, "seed")
    html = tmp_path / "drone.html"
    code, out, err = run(capsys, "brief", "us-ukraine-drone-deal", "--output", str(html))
    assert (code, out, err) == (0, "", f"Deal brief of US–Ukraine Drone Deal: written to {html}.\n")
    page = html.read_text(encoding="utf-8")
    assert '<h1 id="brief-title">US–Ukraine Drone Deal</h1>' in page
    assert page.count("<tr>") == 40  # 14 events, 3 conflicting claims, 20 roles, each table's header
    docx = tmp_path / "drone.docx"
    assert run(capsys, "brief", "us-ukraine-drone-deal", "--format", "docx", "--output", str(docx))[0] == 0
    document = Document(io.BytesIO(docx.read_bytes()))
    assert [len(table.rows) for table in document.tables] == [8, 3, 15, 4, 21]


def test_brief_of_a_view_reports_address_values_it_ignores(ledger_url: str, tmp_path: Path, capsys):
    run(capsys, "seed")
    output = tmp_path / "view.html"
    code, _, err = run(
        capsys,
        "brief",
        "--view",
        "http://localhost:8501/deals?stage=nope&country=UKR&sort=title",
        "--output",
        str(output),
    )
    assert (code, err.splitlines()) == (
        0,
        [
            (
                "Ignored in the address: stage=nope (not an option of “Current stage”; use one of announced, "
                "negotiating, agreed, approved, contracted, delivering, completed, stalled, cancelled)."
            ),
            f"View brief of Deals with Ukraine as buyer or seller: written to {output}.",
        ],
    )
    page = output.read_text(encoding="utf-8")
    assert '<p class="meta">Deals with Ukraine as buyer or seller.</p>' in page
    assert "<h2>Deals (1 listed)</h2>" in page and "<h2>Events (14 listed)</h2>" in page


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("brief",),
            'error: give either a deal id or --view "QUERY" (a dashboard address)\n',
        ),
        (
            ("brief", "x", "--view", "stage=agreed"),
            'error: give either a deal id or --view "QUERY" (a dashboard address)\n',
        ),
        (("brief", "nope"), "error: the ledger did not hold a deal with id 'nope'\n"),
        (("brief", "a\x00b"), "error: contains a control character. remove it from the address\n"),
        (
            ("brief", "--view", "x" * 100_001),
            "error: the address is longer than 100,000 characters. copy it from the dashboard\n",
        ),
    ],
)
def test_brief_refuses_what_it_cannot_use(ledger_url: str, tmp_path: Path, capsys, arguments, message):
    run(capsys, "seed")
    assert run(capsys, *arguments)[::2] == (1, message)


def test_a_docx_brief_goes_to_standard_output_only_when_it_is_not_a_terminal(ledger_url: str, tmp_path: Path):
    env = {**os.environ, "TRACKER_DATABASE_URL": ledger_url}
    subprocess.run(
        [sys.executable, "-m", "tracker", "seed"], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True
    )
    done = subprocess.run(
        [sys.executable, "-m", "tracker", "brief", "us-ukraine-drone-deal", "--format", "docx"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    assert len(Document(io.BytesIO(done.stdout)).tables) == 5
