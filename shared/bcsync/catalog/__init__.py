"""Product sync: the BigCommerce catalog as the warehouse's SKU master."""
