"""Platform foundation shared by every area of rencai."""
