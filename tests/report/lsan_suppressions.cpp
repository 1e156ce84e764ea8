// LeakSanitizer suppressions for the plotting tests (linked into test_report and test_app).
//
// fontconfig keeps its font cache for the life of the process and libltdl keeps the PLplot driver it
// dlopen()ed; both are freed only at exit, which LeakSanitizer reports as leaks. They are one-time library
// allocations, not ours, so they are suppressed by module name; everything else is still checked.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
  return "leak:libfontconfig.so\n"
         "leak:libltdl.so\n";
}
