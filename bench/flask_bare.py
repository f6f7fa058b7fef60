"""The baseline of the portal's `/aspirasi`: a bare Flask app rendering the same template with the
same context (the portal's own view and template setup), served by gunicorn with the web app's
own settings (web/gunicorn_conf.py). What it leaves out is what the figure prices: the CSRF token
and its session cookie (a fixed token stands in), the security headers, the request log and the
proxy middleware."""
from flask import Flask, send_from_directory

from web import pages
from web.app import create_app, use_templates
from web.build import DIST, WEB, Assets

app = Flask(__name__, root_path=str(WEB), static_folder=None)
use_templates(app, Assets())
app.jinja_env.globals["csrf_token"] = lambda: "bench"
# Every address the pages link to, so that url_for builds them; only these two are served.
for rule in create_app().url_map.iter_rules():
    app.add_url_rule(rule.rule, rule.endpoint, methods=rule.methods)
app.view_functions["portal.aspirasi"] = pages.aspirasi
app.view_functions["static_file"] = lambda filename: send_from_directory(DIST, filename)
