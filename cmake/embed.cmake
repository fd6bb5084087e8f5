# embed.cmake: turn files into C string constants, so the pvt binary carries
# its gnuplot templates wherever it is copied.
#   cmake -DOUT=header.h -DNAMES="a|b" -DFILES="a.gp|b.gp" -P embed.cmake
# Each file NAME becomes `static const char pvt_gp_NAME[]`.
string(REPLACE "|" ";" NAMES "${NAMES}")
string(REPLACE "|" ";" FILES "${FILES}")
set(body "/* Generated from the files in bench/plot/ by cmake/embed.cmake: edit those. */\n")
list(LENGTH FILES n)
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
    list(GET FILES ${i} f)
    list(GET NAMES ${i} name)
    file(READ ${f} hex HEX)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
    string(APPEND body "static const char pvt_gp_${name}[] = {${hex}0};\n")
endforeach()
file(WRITE ${OUT}.tmp "${body}")
file(RENAME ${OUT}.tmp ${OUT})
