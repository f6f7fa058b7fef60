from services.common.runner import run

run("services.bantuan.service:BantuanService")
