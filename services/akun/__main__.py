from services.common.runner import run

run("services.akun.service:AkunService")
