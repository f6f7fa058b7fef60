from services.common.runner import run

run("services.organisasi.service:OrganisasiService")
