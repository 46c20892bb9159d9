"""The SLA: its policy file, drafting the agreement from the analyses, checking compliance."""
