// The Arduino core's part in the stand-in: setup() once, loop() twice, then exit (qemu stops).
#include "Arduino.h"

StubSerial Serial;
static unsigned long now;

unsigned long micros() { return now += 7; }
void delay(unsigned long) {}

int main()
{
    setup();
    loop();
    loop();
    return 0;
}
