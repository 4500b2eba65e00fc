"""`python -m tracker`: each command on a real ledger, its output and its exit code."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
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
            "Import #1: us-ukraine-drone-deal.csv: 29 rows read; added 14 events, 1 new deals, "
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
            "update.csv: 1 rows read; would add 1 events, 1 new deals, 0 deals "
            "updated, 1 sources, 2 parties; 0 rows already in the ledger (skipped)."
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
        "Undid import #1 (update.csv): removed 1 events and 1 deals; restored 0 deals' attributes.\n",
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


def test_import_lists_the_deal_attributes_it_changed(ledger_url: str, tmp_path: Path, capsys):
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
            )
        )
    )
    code, out, _ = run(capsys, "import", str(path))
    assert (code, out.splitlines()[1:]) == (
        0,
        ["Deal attributes changed (1):", "  us-ukraine-drone-deal: category 'UAV' -> 'Drones'"],
    )
