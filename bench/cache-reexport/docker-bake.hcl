# The shape of the factory's bake file, cut down: shared `stage-*` targets taken through
# `target:` contexts, images with per-target registry cache, SBOM and provenance, and test
# targets that take the images as contexts. See ../cache-reexport.sh.
variable "CACHE_REPO" {}
variable "BASE_IMAGE" {}
variable "REG" {}
variable "SCANNER" {}
variable "OUT" {}
# 1: every target of a shared stage also reads the cache refs of the others that share it.
variable "UNION" { default = "0" }

group "default" { targets = ["image"] }
group "tests" { targets = ["test"] }

target "stage" {
  name = "stage-${p}-${arch}"
  matrix = { p = ["p1", "p2"], arch = ["amd64", "arm64"] }
  dockerfile = "Dockerfile.a"
  target = "shared"
  platforms = ["linux/${arch}"]
  args = { BASE_IMAGE = BASE_IMAGE, P = p }
  cache-from = UNION == "1" ? [for r in ["stage", "a", "b"] : "type=registry,ref=${CACHE_REPO}:${r}-${p}-${arch}"] : ["type=registry,ref=${CACHE_REPO}:stage-${p}-${arch}"]
  cache-to = ["type=registry,ref=${CACHE_REPO}:stage-${p}-${arch},mode=max,image-manifest=true,oci-mediatypes=true"]
}

target "image" {
  name = "${k}-${p}-${arch}"
  matrix = { k = ["a", "b"], p = ["p1", "p2"], arch = ["amd64", "arm64"] }
  dockerfile = "Dockerfile.${k}"
  target = "final"
  platforms = ["linux/${arch}"]
  contexts = { shared = "target:stage-${p}-${arch}" }
  args = { BASE_IMAGE = BASE_IMAGE, P = p }
  cache-from = UNION == "1" ? [for r in distinct([k, "stage", "a", "b"]) : "type=registry,ref=${CACHE_REPO}:${r}-${p}-${arch}"] : ["type=registry,ref=${CACHE_REPO}:${k}-${p}-${arch}"]
  cache-to = ["type=registry,ref=${CACHE_REPO}:${k}-${p}-${arch},mode=max,image-manifest=true,oci-mediatypes=true"]
  output = ["type=image,name=${REG}/${k}-${p}-${arch}:t,push=true,rewrite-timestamp=true,oci-mediatypes=true"]
  attest = ["type=sbom,generator=${SCANNER}", "type=provenance,mode=max"]
}

target "test" {
  name = "test-${k}-${p}-${arch}"
  matrix = { k = ["a", "b"], p = ["p1", "p2"], arch = ["amd64", "arm64"] }
  dockerfile = "Dockerfile.t"
  target = "results"
  platforms = ["linux/${arch}"]
  contexts = { img = "target:${k}-${p}-${arch}" }
  output = ["type=local,dest=${OUT}/test-${k}-${p}-${arch}"]
}
