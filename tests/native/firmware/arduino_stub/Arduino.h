/* A stand-in for the Arduino core API the example sketch uses (Serial, micros, delay), printing
 * through stdio, so the test runs the sketch on qemu without an Arduino core (Debian has the
 * AVR core only). The IDE puts `#include <Arduino.h>` first in every sketch, as -include does. */
#ifndef ARDUINO_STUB_H
#define ARDUINO_STUB_H
#include <stdio.h>

class StubSerial {
public:
    void begin(unsigned long) {}
    explicit operator bool() const { return true; }
    void print(const char *s) { fputs(s, stdout); }
    void print(unsigned long v) { printf("%lu", v); }
    void print(unsigned v) { printf("%u", v); }
    void println(const char *s) { printf("%s\n", s); }
    void println(unsigned long v) { printf("%lu\n", v); }
    void println(unsigned v) { printf("%u\n", v); }
};
extern StubSerial Serial;
unsigned long micros();
void delay(unsigned long ms);
void setup();
void loop();
#endif
