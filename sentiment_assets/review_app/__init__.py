"""The Streamlit review app; `app.py` is the script `sentiment review-app` runs."""
