"""The test domain: tenants' companies with departments and teams, plus odd primary keys."""

import uuid

from django.db import models


class Tag(models.Model):
    tenant_id = models.CharField(max_length=64, db_index=True)
    label = models.CharField(max_length=30)

    class Meta:
        ordering = ["id"]


class Company(models.Model):
    tenant_id = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=100, unique=True)
    archived = models.BooleanField(default=False)
    created_by = models.CharField(max_length=64, blank=True, default="")
    country = models.ForeignKey("Country", null=True, blank=True, on_delete=models.SET_NULL)
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies")
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.tenant_id})"

    def department_count(self) -> int:
        return len(self.departments.all())

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "companies"
        permissions = [("view_company_own", "Can view companies they own")]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["id"]


class Team(models.Model):
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["id"]


class Office(models.Model):
    """A UUID primary key, nested under a company."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="offices")
    city = models.CharField(max_length=100)


class Country(models.Model):
    """A text primary key."""

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=100)

    class Meta:
        verbose_name_plural = "countries"


class Transfer(models.Model):
    """Two ForeignKeys to Company, so its parent FK must be named."""

    source = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    amount = models.IntegerField()


class Employee(models.Model):
    class Type(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    EmployeeType = Type  # djfapi 0.0.x's README calls it so

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="employees")
    user_id = models.CharField(max_length=64)
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.MEMBER)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="employees")


class Costcenter(models.Model):
    """Choices, decimals, dates, JSON, auto_now and constraints, for schemas and validation."""

    class Kind(models.TextChoices):
        OPEX = "opex", "Operating"
        CAPEX = "capex", "Capital"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="costcenters")
    code = models.CharField(max_length=10, help_text="Unique per company.")
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.OPEX)
    budget = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    starts_on = models.DateField(null=True, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, default="active")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="costcenter_code_per_company"),
            models.CheckConstraint(condition=models.Q(budget__gte=0), name="costcenter_budget_positive"),
        ]

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.code and self.code.lower() == "void":
            raise ValidationError("'void' is reserved.")


# djfapi 0.0.x's README names models after their parents: the compatibility layer derives
# path names from that (CompanyDepartment under Company -> department_id).


class CompanyDepartment(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="company_departments")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["id"]


class CompanyDepartmentTeam(models.Model):
    department = models.ForeignKey(CompanyDepartment, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["id"]


class CompanyCostcenter(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="company_costcenters")
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, default="active")
    amount = models.IntegerField(default=0)

    class Meta:
        ordering = ["id"]


# A library, three levels deep, each level with its own scopes and an `own` selector by
# creator: the shape in which a child route could once show what its parent hid.


class Author(models.Model):
    tenant_id = models.CharField(max_length=64, db_index=True)
    name = models.CharField(max_length=100)
    created_by = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["id"]


class Book(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    title = models.CharField(max_length=100)
    created_by = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["id"]


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    text = models.CharField(max_length=200)
    stars = models.PositiveSmallIntegerField(default=3)
    created_by = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=10, default="active")

    class Meta:
        ordering = ["id"]


class Comment(models.Model):
    """Below a review, registered as no route of its own: written only through a review's body."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="comments")
    text = models.CharField(max_length=200)
    created_by = models.CharField(max_length=64, blank=True, default="")


from tests.testapp.ordered import Ordered  # noqa: E402, F401  (cursor walks: a field of every type)


class Document(models.Model):
    """A row with a file: the body sends its name; the file itself is never set from JSON."""

    title = models.CharField(max_length=100)
    attachment = models.FileField(upload_to="documents/", blank=True)
    picture = models.ImageField(upload_to="pictures/", blank=True)
    due_at = models.DateTimeField(null=True, blank=True)


class Member(models.Model):
    """Three ForeignKeys from the tenant: team -> department -> company."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(max_length=100)


class Badge(models.Model):
    """Four ForeignKeys from the tenant through its member, one through a nullable sponsor:
    its tenant is its member's, and losing the sponsor loses nothing."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="badges")
    sponsor = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    label = models.CharField(max_length=100)


class BadgeStamp(models.Model):
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE)


class BadgeMark(models.Model):
    stamp = models.ForeignKey(BadgeStamp, on_delete=models.CASCADE)


class BadgeTick(models.Model):
    """Seven ForeignKeys from the tenant: farther than tenancy looks."""

    mark = models.ForeignKey(BadgeMark, on_delete=models.CASCADE)
