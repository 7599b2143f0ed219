"""Human corrections: the feedback store that the API and the review app write to."""
