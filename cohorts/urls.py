from django.urls import path

from cohorts import views

app_name = "cohorts"

urlpatterns = [
    path("", views.cohort_list, name="list"),
    path("compare/", views.cohort_compare, name="compare"),
    path("projects/<int:project_pk>/new/", views.cohort_builder, name="builder"),
    path("projects/<int:project_pk>/count/", views.cohort_count, name="count"),
    path("projects/<int:project_pk>/terms/", views.term_search, name="terms"),
    path("projects/<int:project_pk>/genes/", views.gene_search, name="genes"),
    path("<int:pk>/", views.cohort_detail, name="detail"),
    path("<int:pk>/share/", views.cohort_share, name="share"),
    path("<int:pk>/new-version/", views.cohort_new_version, name="new-version"),
]
