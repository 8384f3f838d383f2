"""Import paths kept from djfapi 0.0.x."""
