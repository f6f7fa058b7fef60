"""The console's aspirasi section (issue 20): its pages join the blueprint of web/konsol/sesi.py."""
