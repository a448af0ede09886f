/*
 * LSI53C895A (Symbios 53C8xx family) register offsets and bits, as the
 * LSI53C895A Technical Manual (chapter 5, "Registers") names them. The
 * register file is 256 bytes, the same through the I/O BAR and the memory
 * BAR; multi-byte registers are little-endian.
 */
#ifndef LSI_REGS_H
#define LSI_REGS_H

#define R_SCNTL0 0x00
#define R_SCNTL1 0x01
#define R_SCNTL2 0x02
#define R_SCNTL3 0x03
#define R_SCID 0x04
#define R_SXFER 0x05
#define R_SDID 0x06
#define R_GPREG 0x07
#define R_SFBR 0x08
#define R_SOCL 0x09
#define R_SSID 0x0a
#define R_SBCL 0x0b
#define R_DSTAT 0x0c
#define R_SSTAT0 0x0d
#define R_SSTAT1 0x0e
#define R_SSTAT2 0x0f
#define R_DSA 0x10
#define R_ISTAT0 0x14
#define R_ISTAT1 0x15
#define R_MBOX0 0x16
#define R_MBOX1 0x17
#define R_CTEST0 0x18
#define R_CTEST1 0x19
#define R_CTEST2 0x1a
#define R_CTEST3 0x1b
#define R_TEMP 0x1c
#define R_DFIFO 0x20
#define R_CTEST4 0x21
#define R_CTEST5 0x22
#define R_CTEST6 0x23
#define R_DBC 0x24 /* 24 bits; DCMD is the fourth byte */
#define R_DCMD 0x27
#define R_DNAD 0x28
#define R_DSP 0x2c
#define R_DSPS 0x30
#define R_SCRATCHA 0x34
#define R_DMODE 0x38
#define R_DIEN 0x39
#define R_SBR 0x3a
#define R_DCNTL 0x3b
#define R_ADDER 0x3c
#define R_SIEN0 0x40
#define R_SIEN1 0x41
#define R_SIST0 0x42
#define R_SIST1 0x43
#define R_SLPAR 0x44
#define R_MACNTL 0x46
#define R_GPCNTL 0x47
#define R_STIME0 0x48
#define R_STIME1 0x49
#define R_RESPID0 0x4a
#define R_RESPID1 0x4b
#define R_STEST0 0x4c
#define R_STEST1 0x4d
#define R_STEST2 0x4e
#define R_STEST3 0x4f
#define R_SIDL 0x50
#define R_STEST4 0x52
#define R_SODL 0x54
#define R_CCNTL0 0x56
#define R_CCNTL1 0x57
#define R_SBDL 0x58
#define R_SCRATCHB 0x5c /* SCRATCHB..SCRATCHR: 0x5c..0x9f */
#define R_SCRATCH_END 0xa0
#define R_MMRS 0xa0 /* 64-bit addressing selectors 0xa0..0xbb */
#define R_MMWS 0xa4
#define R_SFS 0xa8
#define R_DRS 0xac
#define R_SBMS 0xb0
#define R_DBMS 0xb4
#define R_DNAD64 0xb8
#define R_PMJAD1 0xc0
#define R_PMJAD2 0xc4
#define R_RBC 0xc8
#define R_UA 0xcc
#define R_ESA 0xd0
#define R_IA 0xd4
#define R_SBC 0xd8
#define R_CSBC 0xdc
#define R_END 0xe0

#define SCNTL1_SST 0x01
#define SCNTL1_IARB 0x02
#define SCNTL1_RST 0x08
#define SCNTL1_CON 0x10
#define SCNTL2_WSS 0x08
#define SCNTL2_WSR 0x01

#define ISTAT0_DIP 0x01
#define ISTAT0_SIP 0x02
#define ISTAT0_INTF 0x04
#define ISTAT0_CON 0x08
#define ISTAT0_SEM 0x10
#define ISTAT0_SIGP 0x20
#define ISTAT0_SRST 0x40
#define ISTAT0_ABRT 0x80
#define ISTAT1_SRUN 0x02

#define SSTAT0_RST 0x02
#define SSTAT0_WOA 0x04

#define SIST0_RST 0x02
#define SIST0_UDC 0x04
#define SIST0_RSL 0x10
#define SIST0_SEL 0x20
#define SIST0_CMP 0x40
#define SIST0_MA 0x80
#define SIST1_HTH 0x01
#define SIST1_GEN 0x02
#define SIST1_STO 0x04

#define SOCL_ATN 0x08
#define SBCL_ATN 0x08
#define SBCL_BSY 0x20
#define SBCL_ACK 0x40
#define SBCL_REQ 0x80

#define DSTAT_IID 0x01
#define DSTAT_SIR 0x04
#define DSTAT_SSI 0x08
#define DSTAT_ABRT 0x10
#define DSTAT_BF 0x20
#define DSTAT_DFE 0x80

#define DCNTL_COM 0x01
#define DCNTL_STD 0x04
#define DCNTL_SSM 0x10
#define DCNTL_PFF 0x40

#define DMODE_MAN 0x01
#define DMODE_DIOM 0x10
#define DMODE_SIOM 0x20

#define CTEST2_DACK 0x01
#define CTEST2_PCICIE 0x08
#define CTEST2_CM 0x10
#define CTEST2_SIGP 0x40

#define CCNTL0_PMJCTL 0x40
#define CCNTL0_ENPMJ 0x80
#define CCNTL1_EN64DBMV 0x01
#define CCNTL1_EN64TIBMV 0x02
#define CCNTL1_64TIMOD 0x04

#define STEST4_LCKFRQ 0x20

/* SCSI phases (MSG, C/D, I/O), as SSTAT1 bits 2:0 and SBCL show them. */
#define PHASE_DO 0
#define PHASE_DI 1
#define PHASE_CMD 2
#define PHASE_ST 3
#define PHASE_MO 6
#define PHASE_MI 7
#define PHASE_MASK 7

#endif
