"""Hostile input never fails a run: values the warehouse cannot hold, a broken quote."""

from pathlib import Path

from conftest import Etl

from .rawfiles import write


def test_over_long_branch_and_product_names_are_rejected_rows_and_the_run_goes_on(
    etl: Etl, landing: Path
) -> None:
    good = "25/08/2021 09:00,Leeds,Ada Byron,Regular Latte - 2.15,2.15,CASH,"
    long_branch = f"25/08/2021 09:01,{'B' * 300},Ada Byron,Regular Latte - 2.15,2.15,CASH,"
    long_item = f"25/08/2021 09:02,Leeds,Ada Byron,Regular {'L' * 300} - 2.15,2.15,CASH,"
    write(landing, "leeds_25-08-2021_09-00-00.csv", f"{good}\n{long_branch}\n{long_item}\n")
    write(landing, "york_25-08-2021_09-00-00.csv", good.replace("Leeds", "York") + "\n")

    summary = etl.run(landing)

    assert [o.status for o in summary.outcomes] == ["loaded", "loaded"]
    assert etl.query("SELECT line_number, reason FROM rejected_rows ORDER BY 1") == [
        (2, "bad_branch"),
        (3, "bad_basket"),
    ]
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 2


def test_an_unclosed_quote_swallowing_the_file_is_rejected_line_by_line_and_the_run_goes_on(
    etl: Etl, landing: Path
) -> None:
    # GIVEN a file whose second line opens a quote that never closes, and a good file after
    row = "25/08/2021 09:00,Leeds,Ada Byron,Regular Latte - 2.15,2.15,CASH,\n"
    broken = row + row.replace("Ada Byron", '"Ann Lee') + row * 4000
    write(landing, "leeds_25-08-2021_09-00-00.csv", broken)
    write(landing, "york_25-08-2021_09-00-00.csv", row.replace("Leeds", "York"))

    summary = etl.run(landing)

    # THEN every line is accounted for: line 1 loads, each swallowed line is a rejected row
    leeds = etl.ledger_row("leeds_25-08-2021_09-00-00.csv")
    assert (leeds["status"], leeds["rows_read"], leeds["rows_loaded"]) == ("loaded", 4002, 1)
    lines = etl.query("SELECT line_number FROM rejected_rows ORDER BY 1")
    assert [line for (line,) in lines] == list(range(2, 4003))
    assert etl.scalar("SELECT COUNT(DISTINCT reason) FROM rejected_rows") == 1
    assert etl.ledger_row("york_25-08-2021_09-00-00.csv")["rows_loaded"] == 1
    assert summary.exit_code == 0
    assert etl.run(landing).outcomes[0].status == "unchanged"


def test_values_no_warehouse_could_hold_are_rejected_rows_and_the_run_goes_on(
    etl: Etl, landing: Path
) -> None:
    # GIVEN one row per value a warehouse would refuse or misread, then a good file
    good = "25/08/2021 09:00,Leeds,Ada Byron,Regular Latte - 2.15,2.15,CASH,"
    bad = [
        good.replace("Leeds", "Le\x00eds"),  # PostgreSQL refuses NUL in text
        good.replace("Regular Latte", "Regular La\x1btte"),
        good.replace(",2.15,CASH", ",\uff12.\uff11\uff15,CASH"),  # fullwidth digits
        good.replace("25/08/2021", "25/08/9999"),
        good.replace("Leeds", "\u00e9" * 150),  # 150 characters, 300 bytes
        good.replace("Regular Latte - 2.15", '"' + "Regular Latte - 2.15, " * 600 + 'Tea - 0"'),
    ]
    write(landing, "leeds_25-08-2021_09-00-00.csv", "\n".join([good, *bad]) + "\n")
    write(landing, "york_25-08-2021_09-00-00.csv", good.replace("Leeds", "York") + "\n")

    summary = etl.run(landing)

    assert [o.status for o in summary.outcomes] == ["loaded", "loaded"]
    reasons = etl.query("SELECT line_number, reason FROM rejected_rows ORDER BY 1")
    assert reasons == [(2, "bad_branch"), (3, "bad_basket"), (4, "bad_amount"),
                       (5, "bad_timestamp"), (6, "bad_branch"), (7, "bad_basket")]  # fmt: skip
    assert etl.scalar("SELECT COUNT(*) FROM transactions") == 2
    assert "\x00" not in etl.all_text()
