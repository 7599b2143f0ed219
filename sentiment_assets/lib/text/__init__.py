"""Korean text handling: normalisation and Kiwi morphemes."""
