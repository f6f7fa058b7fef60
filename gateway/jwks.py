"""The public keys of the platform's access tokens (RFC 7517), for anyone who checks them: other
front-ends, outside systems, an identity-aware proxy."""
from flask import current_app
from flask.views import MethodView
from marshmallow import fields

from gateway.blueprint import Blueprint
from services.common.schema import BaseSchema

blp = Blueprint("jwks", __name__, public=True,
                description="Kunci publik untuk memeriksa token akses platform (RFC 7517).")


class JwksSchema(BaseSchema):
    keys = fields.List(fields.Dict(), required=True, metadata={
        "description": "Kunci EC P-256 (ES256), masing-masing dengan `kid`-nya."})


@blp.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @blp.doc(security=[])
    @blp.response(200, JwksSchema)
    def get(self):
        """Kunci publik penandatangan token akses. Saat kunci diganti, kunci lama tetap tercantum
        sampai token terakhirnya kedaluwarsa."""
        return current_app.extensions["identities"].keys.jwks()
