# accuracy.png's gnuplot script, its data inline (convlab accuracy). To draw it again:
#   gnuplot -e "set terminal pngcairo size 1120,1120 font 'sans,11'; set output 'accuracy.png'" accuracy.gp
$p0c0 << EOD
1 1.76326006124
4 4.47558203765
16 3.84999619478
64 2.44582051432
256 2.05607533229
EOD
$p0c1 << EOD
1 1.76326006124
4 4.47558203765
16 3.84999619478
64 2.44582051432
256 2.05607533229
EOD
$p0c2 << EOD
1 1.76326006124
4 4.47558203765
16 3.84999619478
64 2.44582051432
256 2.05607533229
EOD
$p0c3 << EOD
1 1.76326006124
4 4.47558203765
16 3.84999619478
64 1.10479889173
256 0.389299266606
EOD
$p0c4 << EOD
1 3.79700487287
4 2.57440641249
16 2.74888854684
64 1.16889686399
256 0.905725251031
EOD
$p0c5 << EOD
1 34.5325558489
4 29.8890443861
16 22.000850555
64 20.1828557736
256 9.30215685915
EOD
$p0c6 << EOD
1 4.21359035933
4 2.97700699197
16 1.63630623092
64 0.826048175059
256 0.55247939855
EOD
$p1c0 << EOD
1 1.68452332459
4 2.25123631095
16 3.06570072465
64 2.18945817573
256 2.57598504328
EOD
$p1c1 << EOD
1 1.68452332459
4 2.25123631095
16 3.06570072465
64 2.18945817573
256 2.57598504328
EOD
$p1c2 << EOD
1 1.68452332459
4 2.25123631095
16 3.06570072465
64 2.18945817573
256 2.57598504328
EOD
$p1c3 << EOD
1 1.68452332459
4 2.25123631095
16 1.34610986887
64 0.421168127374
256 0.287918364665
EOD
$p1c4 << EOD
1 2.55156197026
4 2.40198426569
16 1.06679943191
64 0.518020793894
256 0.512109967035
EOD
$p2c0 << EOD
1 3.06528141051
4 2.53570838334
16 3.16065191086
64 2.34259714529
256 2.70911401405
EOD
$p2c1 << EOD
1 3.06528141051
4 2.53570838334
16 3.16065191086
64 2.34259714529
256 2.70911401405
EOD
$p2c2 << EOD
1 3.06528141051
4 2.53570838334
16 3.16065191086
64 2.34259714529
256 2.70911401405
EOD
$p2c3 << EOD
1 3.06528141051
4 2.10076864489
16 0.860160315947
64 0.412445490222
256 0.351703406957
EOD
$p2c4 << EOD
1 2.66902731333
4 1.4979255971
16 1.04315581426
64 0.647704364204
256 0.198678485791
EOD
$p3c0 << EOD
2 3.79700487287
4 34.5325558489
EOD
$p3c1 << EOD
2 2.57440641249
4 29.8890443861
EOD
$p3c2 << EOD
2 2.74888854684
4 22.000850555
EOD
$p3c3 << EOD
2 1.16889686399
4 20.1828557736
EOD
$p3c4 << EOD
2 0.905725251031
4 9.30215685915
EOD
set multiplot layout 2,2 title "max error per output / sum|w x|, in u: float32 forward, uniform inputs"
set logscale xy
set grid
set key top left
set yrange [0.0993392428955:69.0651116978]
set ylabel 'max |error| / sum|w x|, in u'
set format y '%g'
set xrange [0.666666666667:384]
set xlabel "channels C = F"
set xtics autofreq
set title "3x3 windows"
plot $p0c0 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#0072b2" title "naive", $p0c1 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#e69f00" title "simd", $p0c2 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#009e73" title "openmp", $p0c3 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#d55e00" title "im2col", $p0c4 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#cc79a7" title "winograd2, F(2x2,3x3) tiles", $p0c5 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#56b4e9" title "winograd4, F(4x4,3x3) tiles", $p0c6 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#882255" title "fft"
set xrange [0.666666666667:384]
set xlabel "channels C = F"
set xtics autofreq
set title "5x5 windows"
plot $p1c0 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#0072b2" title "naive", $p1c1 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#e69f00" title "simd", $p1c2 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#009e73" title "openmp", $p1c3 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#d55e00" title "im2col", $p1c4 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#882255" title "fft"
set xrange [0.666666666667:384]
set xlabel "channels C = F"
set xtics autofreq
set title "7x7 windows"
plot $p2c0 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#0072b2" title "naive", $p2c1 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#e69f00" title "simd", $p2c2 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#009e73" title "openmp", $p2c3 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#d55e00" title "im2col", $p2c4 using 1:2 with linespoints pointsize 0.8 linewidth 2 linecolor rgb "#882255" title "fft"
set xrange [1.33333333333:6]
set xlabel "output tile m of F(mxm,3x3)"
set xtics ("F(2x2)" 2, "F(4x4)" 4)
set title "3x3 windows: against Winograd's tile size"
plot $p3c0 using 1:2 with linespoints pointsize 0.8 linewidth 2 dashtype 2 linecolor rgb "#b0b0b0" title "C = 1", $p3c1 using 1:2 with linespoints pointsize 0.8 linewidth 2 dashtype 2 linecolor rgb "#8c8c8c" title "C = 4", $p3c2 using 1:2 with linespoints pointsize 0.8 linewidth 2 dashtype 2 linecolor rgb "#686868" title "C = 16", $p3c3 using 1:2 with linespoints pointsize 0.8 linewidth 2 dashtype 2 linecolor rgb "#444444" title "C = 64", $p3c4 using 1:2 with linespoints pointsize 0.8 linewidth 2 dashtype 2 linecolor rgb "#202020" title "C = 256"
unset multiplot
