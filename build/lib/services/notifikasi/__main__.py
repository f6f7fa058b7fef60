from services.common.runner import run

run("services.notifikasi.service:NotifikasiService")
