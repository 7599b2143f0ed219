"""Human corrections: the feedback store the API writes to, and the reviewers' tokens."""
