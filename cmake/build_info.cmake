# Regenerates build_info.h at every build, so meta.json names the commit the
# binary was built from (with -dirty for uncommitted changes). configure_file
# rewrites the header only when its contents change.
execute_process(COMMAND git rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${SRC_DIR} OUTPUT_VARIABLE PVT_GIT_REV
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT PVT_GIT_REV)
    set(PVT_GIT_REV "unknown")
else()
    execute_process(COMMAND git diff --quiet HEAD WORKING_DIRECTORY ${SRC_DIR} RESULT_VARIABLE dirty)
    if(NOT dirty EQUAL 0)
        set(PVT_GIT_REV "${PVT_GIT_REV}-dirty")
    endif()
endif()
configure_file(${SRC_DIR}/cmake/build_info.h.in ${DST} @ONLY)
