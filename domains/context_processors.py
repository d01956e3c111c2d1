from django.http import HttpRequest

from accounts.requests import is_verified


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)

    def leads_a_domain() -> bool:
        from domains.selectors import domains_for_project_review, domains_led_by

        return is_verified(user) and (
            domains_led_by(user=user).exists() or domains_for_project_review(user=user).exists()
        )

    # A callable: the template calls it only when the navigation is drawn.
    return {"nav_leads_a_domain": leads_a_domain}
