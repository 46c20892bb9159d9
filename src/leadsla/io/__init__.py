"""Sources, mappings and validation: how CRM data becomes the canonical tables."""
