"""The withdrawal register's API (``/api/v1/withdrawals/``): governance
reviewers list and record withdrawals; anyone else gets 404. The same
selector and services as the page."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api_errors import error_body, error_responses
from participants import services
from participants.models import RegisteredWithdrawal
from participants.selectors import withdrawal_register_for_user
from participants.serializers import WithdrawalIn, WithdrawalOut, WithdrawalRecordedOut
from participants.withdrawal_list import WithdrawalLine


class WithdrawalListCreate(generics.ListAPIView):
    serializer_class = WithdrawalOut

    def get_queryset(self):
        return withdrawal_register_for_user(user=self.request.user)  # 404 unless a governance reviewer

    @extend_schema(summary="The withdrawal register, newest first (governance reviewers)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=WithdrawalIn,
        responses={201: WithdrawalRecordedOut, **error_responses(400, 404, 409)},
        summary="Record a withdrawal of consent (governance reviewers); it takes effect at once and cannot be undone",
    )
    def post(self, request: Request) -> Response:
        withdrawal_register_for_user(user=request.user)
        data = WithdrawalIn(data=request.data)
        data.is_valid(raise_exception=True)
        line = WithdrawalLine(
            data.validated_data["participant_id"].strip(), data.validated_data["withdrawal_month"].strip()
        )
        try:
            recorded = services.withdrawals_record(
                by=request.user, lines=[line], source=RegisteredWithdrawal.Source.API
            )
        except services.WithdrawalsRefused as refused:
            errors: dict[str, list[str]] = {}
            for problem in refused.problems:
                errors.setdefault(problem.field or "request", []).append(problem.message)
            return Response(error_body("The withdrawal was not recorded.", errors), status=status.HTTP_400_BAD_REQUEST)
        if not recorded.entries:
            detail = f"Participant {line.participant_id} may be used in no release already; nothing was recorded."
            return Response(error_body(detail), status=status.HTTP_409_CONFLICT)
        entry = recorded.entries[0]
        out = {
            **WithdrawalOut(entry).data,
            "no_longer_usable_in": recorded.effect.releases_of(entry.participant_id),
            "flagged": recorded.effect.flagged,
        }
        return Response(out, status=status.HTTP_201_CREATED)
