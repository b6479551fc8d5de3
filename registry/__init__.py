"""免申即享 subsidy registry."""
