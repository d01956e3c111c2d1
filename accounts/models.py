"""People: users (signing in by e-mail), their researcher profile and accreditation, and global roles."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

# Information-governance training must be renewed every year.
TRAINING_VALID_FOR = timedelta(days=365)
# The data access agreement in force; accepting an older version does not count.
CURRENT_AGREEMENT_VERSION = "2026-1"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        permissions = [("manage_user", "Can manage user accounts")]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class ResearcherProfile(models.Model):
    """Accreditation: safe people. Access to data needs training within the last
    12 months and acceptance of the current data access agreement."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    institution = models.CharField(max_length=200, blank=True)
    training_completed_on = models.DateField("information-governance training completed on", null=True, blank=True)
    agreement_version = models.CharField(max_length=20, blank=True)
    agreement_accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(agreement_version="", agreement_accepted_at__isnull=True)
                    | (~models.Q(agreement_version="") & models.Q(agreement_accepted_at__isnull=False))
                ),
                name="profile_agreement_version_with_time",
            )
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    def training_expires_on(self) -> date | None:
        if self.training_completed_on is None:
            return None
        return self.training_completed_on + TRAINING_VALID_FOR

    def training_valid(self, on: date | None = None) -> bool:
        expires = self.training_expires_on()
        on = on or timezone.localdate()
        return expires is not None and self.training_completed_on <= on < expires  # type: ignore[operator]

    def agreement_valid(self) -> bool:
        return self.agreement_version == CURRENT_AGREEMENT_VERSION and self.agreement_accepted_at is not None

    def is_accredited(self, on: date | None = None) -> bool:
        return self.training_valid(on) and self.agreement_valid()


class Role(models.TextChoices):
    RESEARCHER = "researcher", "Researcher"
    DOMAIN_LEAD = "domain_lead", "Domain lead"
    OUTPUT_CHECKER = "output_checker", "Output checker"
    GOVERNANCE_REVIEWER = "governance_reviewer", "Governance reviewer"
    ADMINISTRATOR = "administrator", "Administrator"


class RoleAssignment(models.Model):
    """A global role held by a user. Object-scoped roles (a domain lead of one
    domain) are held as django-guardian object permissions instead."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(default=timezone.now)
    granted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()}"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 hash of the key is stored: the key
    itself is shown once, when it is made. Keys are 256 random bits, so an
    unsalted fast hash is enough (nothing to guess, nothing to look up)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The key's first characters, to recognise it by.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
