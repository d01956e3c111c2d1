from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from participants.services import WithdrawalsRefused, withdrawals_record_file
from participants.withdrawal_list import HEADER


class Command(BaseCommand):
    help = (
        "Record a provider's list of withdrawals of consent in the withdrawal register. FILE is "
        f"tab-separated with the header {HEADER[0]}<TAB>{HEADER[1]} (YYYY-MM). Every problem is "
        "reported with its line; nothing is recorded unless the whole file is valid. A recorded "
        "withdrawal takes effect at once and cannot be undone: a re-consent arrives with a newer release."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The withdrawal list (TSV).")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            recorded = withdrawals_record_file(path=path)
        except WithdrawalsRefused as refused:
            for problem in refused.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{path.name} refused: {len(refused.problems)} problem(s) listed above. Nothing was recorded."
            ) from None
        for line in recorded.already_withdrawn:
            self.stdout.write(
                f"{path.name}:{line.line}: participant {line.participant_id} may be used in no release already; "
                "nothing to record."
            )
        effect = recorded.effect
        self.stdout.write(self.style.SUCCESS(f"{len(recorded.entries)} withdrawal(s) recorded from {path.name}."))
        for release, ids in effect.no_longer_usable.items():
            self.stdout.write(f"  release {release}: {len(ids)} participant(s) no longer used")
        for label, n in effect.flagged.items():
            self.stdout.write(f"  {label} flagged: {n}")
