"""Reading a provider's withdrawal list: every problem with its line, none missed."""

from __future__ import annotations

from participants.withdrawal_list import WithdrawalLine, read_withdrawal_list, this_month


def _write(tmp_path, text: str, name: str = "withdrawals.tsv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_a_valid_list_reads_every_line_and_skips_blank_ones(tmp_path):
    path = _write(tmp_path, "participant_id\twithdrawal_month\nGEL0000001\t2024-11\n\nGEL0000002\t2025-01\r\n")
    lines, problems = read_withdrawal_list(path)
    assert problems == []
    assert lines == [WithdrawalLine("GEL0000001", "2024-11", 2), WithdrawalLine("GEL0000002", "2025-01", 4)]


def test_a_byte_order_mark_from_a_spreadsheet_is_not_part_of_the_header(tmp_path):
    path = _write(tmp_path, "\ufeffparticipant_id\twithdrawal_month\nGEL0000001\t2024-11\n")
    lines, problems = read_withdrawal_list(path)
    assert problems == [] and len(lines) == 1


def test_every_problem_is_reported_with_its_line(tmp_path):
    future = f"{int(this_month()[:4]) + 1}-01"
    text = (
        "participant_id\twithdrawal_month\n"
        "GEL0000001\t2024-11\n"  # 2: fine
        "GEL0000002\t2024-13\n"  # 3: no such month
        "not an id!\t2024-10\n"  # 4: bad id
        f"GEL0000003\t{future}\n"  # 5: still to come
        "GEL0000004\n"  # 6: one cell
        "GEL0000001\t2024-12\n"  # 7: again
        "GEL0000005\t24-01\n"  # 8: not YYYY-MM
    )
    lines, problems = read_withdrawal_list(_write(tmp_path, text))
    found = [(p.line, p.field, p.code) for p in problems]
    assert found == [
        (3, "withdrawal_month", "invalid_value"),
        (4, "participant_id", "invalid_value"),
        (5, "withdrawal_month", "future_month"),
        (6, None, "wrong_cell_count"),
        (7, "participant_id", "duplicate_id"),
        (8, "withdrawal_month", "invalid_value"),
    ]
    assert all(p.file == "withdrawals.tsv" for p in problems)
    assert "already on line 2" in str(problems[4])
    assert [line.line for line in lines] == [2]


def test_a_wrong_header_is_named(tmp_path):
    lines, problems = read_withdrawal_list(_write(tmp_path, "id\tmonth\nGEL0000001\t2024-11\n"))
    assert lines == [] and [(p.line, p.code) for p in problems] == [(1, "wrong_header")]
    assert "participant_id<TAB>withdrawal_month" in problems[0].message


def test_empty_files_and_files_without_withdrawals_are_refused(tmp_path):
    assert [p.code for p in read_withdrawal_list(_write(tmp_path, ""))[1]] == ["empty_file"]
    header_only = _write(tmp_path, "participant_id\twithdrawal_month\n", "header.tsv")
    assert [p.code for p in read_withdrawal_list(header_only)[1]] == ["no_withdrawals"]


def test_text_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("participant_id\twithdrawal_month\nGEL\xe9\t2024-11\n".encode("latin-1"))
    assert [p.code for p in read_withdrawal_list(path)[1]] == ["not_utf8"]
