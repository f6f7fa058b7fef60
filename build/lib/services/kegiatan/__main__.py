from services.common.runner import run

run("services.kegiatan.service:KegiatanService")
