import factory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import CURRENT_AGREEMENT_VERSION, ResearcherProfile, User

PASSWORD = "a-long-test-password-42"


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a profile; ``UserFactory(accredited=True)`` has training from
    last month and the current data access agreement accepted."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def accredited(obj, create, extracted, **kwargs):
        if not create:
            return
        profile, _ = ResearcherProfile.objects.get_or_create(user=obj)
        if extracted:
            profile.institution = "Test University"
            profile.training_completed_on = timezone.localdate() - timezone.timedelta(days=30)
            profile.agreement_version = CURRENT_AGREEMENT_VERSION
            profile.agreement_accepted_at = timezone.now()
            profile.save()


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "Test authenticator"
    confirmed = True
