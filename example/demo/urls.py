"""Django's URLs: the admin, served under /admin by the ASGI app in demo.asgi."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("", admin.site.urls)]
