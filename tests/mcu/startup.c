/* Reset for the test harness on QEMU's mps2-an386 (Cortex-M4F): enable the FPU, copy
   .data, clear .bss, open the semihosting console (newlib's librdimon), run main, exit
   through semihosting with its status. */
#include <stdint.h>
#include <stdlib.h>

extern int main(void);
extern void initialise_monitor_handles(void);
extern uint32_t __etext, __data_start__, __data_end__, __bss_start__, __bss_end__, __stack_top;

void Reset_Handler(void) {
  uint32_t *src = &__etext, *dst = &__data_start__;
  *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20; /* CPACR: full access to CP10 and CP11 */
  __asm volatile("dsb\n\tisb");
  while (dst < &__data_end__) *dst++ = *src++;
  for (dst = &__bss_start__; dst < &__bss_end__;) *dst++ = 0;
  initialise_monitor_handles();
  exit(main());
}

static void Fault_Handler(void) { exit(99); }

/* exit() runs newlib's fini array, which calls these (crti/crtn are not linked). */
void _init(void) {}
void _fini(void) {}

__attribute__((section(".vectors"), used)) const void* const vector_table[16] = {&__stack_top,
                                                                                 (const void*)Reset_Handler,
                                                                                 (const void*)Fault_Handler,
                                                                                 (const void*)Fault_Handler,
                                                                                 (const void*)Fault_Handler,
                                                                                 (const void*)Fault_Handler,
                                                                                 (const void*)Fault_Handler};
