"""The console's kegiatan section (issue 20): its pages join the blueprint of web/konsol/sesi.py."""
