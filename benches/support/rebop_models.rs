// rebop's `define_system!` models of the benchmark workloads (generated from the spinesim models
// and `benches/models/spine_camkii_can.ant`; rates are copied from spinesim's compiled constants
// at run time, so both simulators run the same propensities). Each model also exists with an extra
// species `ev` that every reaction increments: an untimed run of it counts the events of the timed
// run (same seed, same propensities, so the same trajectory).

define_system! {
    k_birth k_death;
    BirthDeathMacro { X }
    birth: => X @ k_birth
    death: X =>  @ k_death
}

define_system! {
    k_birth k_death;
    BirthDeathMacroCounted { X, ev }
    birth: => X + ev @ k_birth
    death: X => ev @ k_death
}

define_system! {
    k_A_binds_Da k_A_unbinds_Da k_A_binds_Dr k_A_unbinds_Dr k_transcribe_A_basal k_transcribe_A_activated k_transcribe_R_basal k_transcribe_R_activated k_translate_A k_translate_R k_complex_formation k_complex_A_decay k_Ma_decay k_Mr_decay k_A_decay k_R_decay;
    VilarMacro { Da, Dr, Dpa, Dpr, Ma, Mr, A, R, C }
    A_binds_Da: Da + A => Dpa @ k_A_binds_Da
    A_unbinds_Da: Dpa => Da + A @ k_A_unbinds_Da
    A_binds_Dr: Dr + A => Dpr @ k_A_binds_Dr
    A_unbinds_Dr: Dpr => Dr + A @ k_A_unbinds_Dr
    transcribe_A_basal: Da => Da + Ma @ k_transcribe_A_basal
    transcribe_A_activated: Dpa => Dpa + Ma @ k_transcribe_A_activated
    transcribe_R_basal: Dr => Dr + Mr @ k_transcribe_R_basal
    transcribe_R_activated: Dpr => Dpr + Mr @ k_transcribe_R_activated
    translate_A: Ma => Ma + A @ k_translate_A
    translate_R: Mr => Mr + R @ k_translate_R
    complex_formation: A + R => C @ k_complex_formation
    complex_A_decay: C => R @ k_complex_A_decay
    Ma_decay: Ma =>  @ k_Ma_decay
    Mr_decay: Mr =>  @ k_Mr_decay
    A_decay: A =>  @ k_A_decay
    R_decay: R =>  @ k_R_decay
}

define_system! {
    k_A_binds_Da k_A_unbinds_Da k_A_binds_Dr k_A_unbinds_Dr k_transcribe_A_basal k_transcribe_A_activated k_transcribe_R_basal k_transcribe_R_activated k_translate_A k_translate_R k_complex_formation k_complex_A_decay k_Ma_decay k_Mr_decay k_A_decay k_R_decay;
    VilarMacroCounted { Da, Dr, Dpa, Dpr, Ma, Mr, A, R, C, ev }
    A_binds_Da: Da + A => Dpa + ev @ k_A_binds_Da
    A_unbinds_Da: Dpa => Da + A + ev @ k_A_unbinds_Da
    A_binds_Dr: Dr + A => Dpr + ev @ k_A_binds_Dr
    A_unbinds_Dr: Dpr => Dr + A + ev @ k_A_unbinds_Dr
    transcribe_A_basal: Da => Da + Ma + ev @ k_transcribe_A_basal
    transcribe_A_activated: Dpa => Dpa + Ma + ev @ k_transcribe_A_activated
    transcribe_R_basal: Dr => Dr + Mr + ev @ k_transcribe_R_basal
    transcribe_R_activated: Dpr => Dpr + Mr + ev @ k_transcribe_R_activated
    translate_A: Ma => Ma + A + ev @ k_translate_A
    translate_R: Mr => Mr + R + ev @ k_translate_R
    complex_formation: A + R => C + ev @ k_complex_formation
    complex_A_decay: C => R + ev @ k_complex_A_decay
    Ma_decay: Ma => ev @ k_Ma_decay
    Mr_decay: Mr => ev @ k_Mr_decay
    A_decay: A => ev @ k_A_decay
    R_decay: R => ev @ k_R_decay
}

define_system! {
    r01 r02 r03 r04 r05 r06 r07 r08 r09 r10 r11 r12 r13 r14 r15 r16 r17 r18 r19 r20 r21 r22 r23 r24 r25 r26 r27 r28 r29 r30 r31 r32 r33 r34 r35 r36 r37 r38 r39 r40;
    CamkiiMacro { Ca, CBh, CBhCa, CBm, CBmCa, CaM0, CaM1, CaM2, CaM3, CaM4, Ng, NgCaM, K, KC, KCP, KP, KPi, PP1, PP1KP, PP1KPi, CaN, CaNC, A_s, A_sP, A_i }
    R01: => Ca @ r01
    R02: Ca =>  @ r02
    R03: CBh + Ca => CBhCa @ r03
    R04: CBhCa => CBh + Ca @ r04
    R05: CBm + Ca => CBmCa @ r05
    R06: CBmCa => CBm + Ca @ r06
    R07: CaM0 + Ca => CaM1 @ r07
    R08: CaM1 => CaM0 + Ca @ r08
    R09: CaM1 + Ca => CaM2 @ r09
    R10: CaM2 => CaM1 + Ca @ r10
    R11: CaM2 + Ca => CaM3 @ r11
    R12: CaM3 => CaM2 + Ca @ r12
    R13: CaM3 + Ca => CaM4 @ r13
    R14: CaM4 => CaM3 + Ca @ r14
    R15: Ng + CaM0 => NgCaM @ r15
    R16: NgCaM => Ng + CaM0 @ r16
    R17: K + CaM4 => KC @ r17
    R18: KC => K + CaM4 @ r18
    R19: KP + CaM4 => KCP @ r19
    R20: KCP => KP + CaM4 @ r20
    R21: 2 KC => KC + KCP @ r21
    R22: KC + KCP => 2 KCP @ r22
    R23: KC + KP => KCP + KP @ r23
    R24: KP => KPi @ r24
    R25: PP1 + KP => PP1KP @ r25
    R26: PP1KP => PP1 + KP @ r26
    R27: PP1KP => PP1 + K @ r27
    R28: PP1 + KPi => PP1KPi @ r28
    R29: PP1KPi => PP1 + KPi @ r29
    R30: PP1KPi => PP1 + KP @ r30
    R31: CaN + CaM4 => CaNC @ r31
    R32: CaNC => CaN + CaM4 @ r32
    R33: A_s + KC => A_sP + KC @ r33
    R34: A_s + KCP => A_sP + KCP @ r34
    R35: A_s + KP => A_sP + KP @ r35
    R36: A_sP + CaNC => A_s + CaNC @ r36
    R37: A_sP + PP1 => A_s + PP1 @ r37
    R38: A_s + CaNC => A_i + CaNC @ r38
    R39: A_s => A_i @ r39
    R40: A_i => A_s @ r40
}

define_system! {
    r01 r02 r03 r04 r05 r06 r07 r08 r09 r10 r11 r12 r13 r14 r15 r16 r17 r18 r19 r20 r21 r22 r23 r24 r25 r26 r27 r28 r29 r30 r31 r32 r33 r34 r35 r36 r37 r38 r39 r40;
    CamkiiMacroCounted { Ca, CBh, CBhCa, CBm, CBmCa, CaM0, CaM1, CaM2, CaM3, CaM4, Ng, NgCaM, K, KC, KCP, KP, KPi, PP1, PP1KP, PP1KPi, CaN, CaNC, A_s, A_sP, A_i, ev }
    R01: => Ca + ev @ r01
    R02: Ca => ev @ r02
    R03: CBh + Ca => CBhCa + ev @ r03
    R04: CBhCa => CBh + Ca + ev @ r04
    R05: CBm + Ca => CBmCa + ev @ r05
    R06: CBmCa => CBm + Ca + ev @ r06
    R07: CaM0 + Ca => CaM1 + ev @ r07
    R08: CaM1 => CaM0 + Ca + ev @ r08
    R09: CaM1 + Ca => CaM2 + ev @ r09
    R10: CaM2 => CaM1 + Ca + ev @ r10
    R11: CaM2 + Ca => CaM3 + ev @ r11
    R12: CaM3 => CaM2 + Ca + ev @ r12
    R13: CaM3 + Ca => CaM4 + ev @ r13
    R14: CaM4 => CaM3 + Ca + ev @ r14
    R15: Ng + CaM0 => NgCaM + ev @ r15
    R16: NgCaM => Ng + CaM0 + ev @ r16
    R17: K + CaM4 => KC + ev @ r17
    R18: KC => K + CaM4 + ev @ r18
    R19: KP + CaM4 => KCP + ev @ r19
    R20: KCP => KP + CaM4 + ev @ r20
    R21: 2 KC => KC + KCP + ev @ r21
    R22: KC + KCP => 2 KCP + ev @ r22
    R23: KC + KP => KCP + KP + ev @ r23
    R24: KP => KPi + ev @ r24
    R25: PP1 + KP => PP1KP + ev @ r25
    R26: PP1KP => PP1 + KP + ev @ r26
    R27: PP1KP => PP1 + K + ev @ r27
    R28: PP1 + KPi => PP1KPi + ev @ r28
    R29: PP1KPi => PP1 + KPi + ev @ r29
    R30: PP1KPi => PP1 + KP + ev @ r30
    R31: CaN + CaM4 => CaNC + ev @ r31
    R32: CaNC => CaN + CaM4 + ev @ r32
    R33: A_s + KC => A_sP + KC + ev @ r33
    R34: A_s + KCP => A_sP + KCP + ev @ r34
    R35: A_s + KP => A_sP + KP + ev @ r35
    R36: A_sP + CaNC => A_s + CaNC + ev @ r36
    R37: A_sP + PP1 => A_s + PP1 + ev @ r37
    R38: A_s + CaNC => A_i + CaNC + ev @ r38
    R39: A_s => A_i + ev @ r39
    R40: A_i => A_s + ev @ r40
}

/// `BirthDeathMacro` at `state` (counts, constants and time), seeded with `seed`.
fn birth_death_macro(net: &Network, state: &State, seed: u64) -> BirthDeathMacro {
    let mut m = BirthDeathMacro::new();
    m.X = count(net, state, "X");
    m.k_birth = constant(net, state, "birth");
    m.k_death = constant(net, state, "death");
    m.t = state.t;
    m.seed(seed);
    m
}

/// `BirthDeathMacroCounted` at `state` (counts, constants and time), seeded with `seed`.
fn birth_death_macro_counted(net: &Network, state: &State, seed: u64) -> BirthDeathMacroCounted {
    let mut m = BirthDeathMacroCounted::new();
    m.X = count(net, state, "X");
    m.k_birth = constant(net, state, "birth");
    m.k_death = constant(net, state, "death");
    m.t = state.t;
    m.seed(seed);
    m
}

/// `VilarMacro` at `state` (counts, constants and time), seeded with `seed`.
fn vilar_macro(net: &Network, state: &State, seed: u64) -> VilarMacro {
    let mut m = VilarMacro::new();
    m.Da = count(net, state, "Da");
    m.Dr = count(net, state, "Dr");
    m.Dpa = count(net, state, "Dpa");
    m.Dpr = count(net, state, "Dpr");
    m.Ma = count(net, state, "Ma");
    m.Mr = count(net, state, "Mr");
    m.A = count(net, state, "A");
    m.R = count(net, state, "R");
    m.C = count(net, state, "C");
    m.k_A_binds_Da = constant(net, state, "A_binds_Da");
    m.k_A_unbinds_Da = constant(net, state, "A_unbinds_Da");
    m.k_A_binds_Dr = constant(net, state, "A_binds_Dr");
    m.k_A_unbinds_Dr = constant(net, state, "A_unbinds_Dr");
    m.k_transcribe_A_basal = constant(net, state, "transcribe_A_basal");
    m.k_transcribe_A_activated = constant(net, state, "transcribe_A_activated");
    m.k_transcribe_R_basal = constant(net, state, "transcribe_R_basal");
    m.k_transcribe_R_activated = constant(net, state, "transcribe_R_activated");
    m.k_translate_A = constant(net, state, "translate_A");
    m.k_translate_R = constant(net, state, "translate_R");
    m.k_complex_formation = constant(net, state, "complex_formation");
    m.k_complex_A_decay = constant(net, state, "complex_A_decay");
    m.k_Ma_decay = constant(net, state, "Ma_decay");
    m.k_Mr_decay = constant(net, state, "Mr_decay");
    m.k_A_decay = constant(net, state, "A_decay");
    m.k_R_decay = constant(net, state, "R_decay");
    m.t = state.t;
    m.seed(seed);
    m
}

/// `VilarMacroCounted` at `state` (counts, constants and time), seeded with `seed`.
fn vilar_macro_counted(net: &Network, state: &State, seed: u64) -> VilarMacroCounted {
    let mut m = VilarMacroCounted::new();
    m.Da = count(net, state, "Da");
    m.Dr = count(net, state, "Dr");
    m.Dpa = count(net, state, "Dpa");
    m.Dpr = count(net, state, "Dpr");
    m.Ma = count(net, state, "Ma");
    m.Mr = count(net, state, "Mr");
    m.A = count(net, state, "A");
    m.R = count(net, state, "R");
    m.C = count(net, state, "C");
    m.k_A_binds_Da = constant(net, state, "A_binds_Da");
    m.k_A_unbinds_Da = constant(net, state, "A_unbinds_Da");
    m.k_A_binds_Dr = constant(net, state, "A_binds_Dr");
    m.k_A_unbinds_Dr = constant(net, state, "A_unbinds_Dr");
    m.k_transcribe_A_basal = constant(net, state, "transcribe_A_basal");
    m.k_transcribe_A_activated = constant(net, state, "transcribe_A_activated");
    m.k_transcribe_R_basal = constant(net, state, "transcribe_R_basal");
    m.k_transcribe_R_activated = constant(net, state, "transcribe_R_activated");
    m.k_translate_A = constant(net, state, "translate_A");
    m.k_translate_R = constant(net, state, "translate_R");
    m.k_complex_formation = constant(net, state, "complex_formation");
    m.k_complex_A_decay = constant(net, state, "complex_A_decay");
    m.k_Ma_decay = constant(net, state, "Ma_decay");
    m.k_Mr_decay = constant(net, state, "Mr_decay");
    m.k_A_decay = constant(net, state, "A_decay");
    m.k_R_decay = constant(net, state, "R_decay");
    m.t = state.t;
    m.seed(seed);
    m
}

/// `CamkiiMacro` at `state` (counts, constants and time), seeded with `seed`.
fn camkii_macro(net: &Network, state: &State, seed: u64) -> CamkiiMacro {
    let mut m = CamkiiMacro::new();
    m.Ca = count(net, state, "Ca");
    m.CBh = count(net, state, "CBh");
    m.CBhCa = count(net, state, "CBhCa");
    m.CBm = count(net, state, "CBm");
    m.CBmCa = count(net, state, "CBmCa");
    m.CaM0 = count(net, state, "CaM0");
    m.CaM1 = count(net, state, "CaM1");
    m.CaM2 = count(net, state, "CaM2");
    m.CaM3 = count(net, state, "CaM3");
    m.CaM4 = count(net, state, "CaM4");
    m.Ng = count(net, state, "Ng");
    m.NgCaM = count(net, state, "NgCaM");
    m.K = count(net, state, "K");
    m.KC = count(net, state, "KC");
    m.KCP = count(net, state, "KCP");
    m.KP = count(net, state, "KP");
    m.KPi = count(net, state, "KPi");
    m.PP1 = count(net, state, "PP1");
    m.PP1KP = count(net, state, "PP1KP");
    m.PP1KPi = count(net, state, "PP1KPi");
    m.CaN = count(net, state, "CaN");
    m.CaNC = count(net, state, "CaNC");
    m.A_s = count(net, state, "A_s");
    m.A_sP = count(net, state, "A_sP");
    m.A_i = count(net, state, "A_i");
    m.r01 = constant(net, state, "R01");
    m.r02 = constant(net, state, "R02");
    m.r03 = constant(net, state, "R03");
    m.r04 = constant(net, state, "R04");
    m.r05 = constant(net, state, "R05");
    m.r06 = constant(net, state, "R06");
    m.r07 = constant(net, state, "R07");
    m.r08 = constant(net, state, "R08");
    m.r09 = constant(net, state, "R09");
    m.r10 = constant(net, state, "R10");
    m.r11 = constant(net, state, "R11");
    m.r12 = constant(net, state, "R12");
    m.r13 = constant(net, state, "R13");
    m.r14 = constant(net, state, "R14");
    m.r15 = constant(net, state, "R15");
    m.r16 = constant(net, state, "R16");
    m.r17 = constant(net, state, "R17");
    m.r18 = constant(net, state, "R18");
    m.r19 = constant(net, state, "R19");
    m.r20 = constant(net, state, "R20");
    m.r21 = constant(net, state, "R21");
    m.r22 = constant(net, state, "R22");
    m.r23 = constant(net, state, "R23");
    m.r24 = constant(net, state, "R24");
    m.r25 = constant(net, state, "R25");
    m.r26 = constant(net, state, "R26");
    m.r27 = constant(net, state, "R27");
    m.r28 = constant(net, state, "R28");
    m.r29 = constant(net, state, "R29");
    m.r30 = constant(net, state, "R30");
    m.r31 = constant(net, state, "R31");
    m.r32 = constant(net, state, "R32");
    m.r33 = constant(net, state, "R33");
    m.r34 = constant(net, state, "R34");
    m.r35 = constant(net, state, "R35");
    m.r36 = constant(net, state, "R36");
    m.r37 = constant(net, state, "R37");
    m.r38 = constant(net, state, "R38");
    m.r39 = constant(net, state, "R39");
    m.r40 = constant(net, state, "R40");
    m.t = state.t;
    m.seed(seed);
    m
}

/// `CamkiiMacroCounted` at `state` (counts, constants and time), seeded with `seed`.
fn camkii_macro_counted(net: &Network, state: &State, seed: u64) -> CamkiiMacroCounted {
    let mut m = CamkiiMacroCounted::new();
    m.Ca = count(net, state, "Ca");
    m.CBh = count(net, state, "CBh");
    m.CBhCa = count(net, state, "CBhCa");
    m.CBm = count(net, state, "CBm");
    m.CBmCa = count(net, state, "CBmCa");
    m.CaM0 = count(net, state, "CaM0");
    m.CaM1 = count(net, state, "CaM1");
    m.CaM2 = count(net, state, "CaM2");
    m.CaM3 = count(net, state, "CaM3");
    m.CaM4 = count(net, state, "CaM4");
    m.Ng = count(net, state, "Ng");
    m.NgCaM = count(net, state, "NgCaM");
    m.K = count(net, state, "K");
    m.KC = count(net, state, "KC");
    m.KCP = count(net, state, "KCP");
    m.KP = count(net, state, "KP");
    m.KPi = count(net, state, "KPi");
    m.PP1 = count(net, state, "PP1");
    m.PP1KP = count(net, state, "PP1KP");
    m.PP1KPi = count(net, state, "PP1KPi");
    m.CaN = count(net, state, "CaN");
    m.CaNC = count(net, state, "CaNC");
    m.A_s = count(net, state, "A_s");
    m.A_sP = count(net, state, "A_sP");
    m.A_i = count(net, state, "A_i");
    m.r01 = constant(net, state, "R01");
    m.r02 = constant(net, state, "R02");
    m.r03 = constant(net, state, "R03");
    m.r04 = constant(net, state, "R04");
    m.r05 = constant(net, state, "R05");
    m.r06 = constant(net, state, "R06");
    m.r07 = constant(net, state, "R07");
    m.r08 = constant(net, state, "R08");
    m.r09 = constant(net, state, "R09");
    m.r10 = constant(net, state, "R10");
    m.r11 = constant(net, state, "R11");
    m.r12 = constant(net, state, "R12");
    m.r13 = constant(net, state, "R13");
    m.r14 = constant(net, state, "R14");
    m.r15 = constant(net, state, "R15");
    m.r16 = constant(net, state, "R16");
    m.r17 = constant(net, state, "R17");
    m.r18 = constant(net, state, "R18");
    m.r19 = constant(net, state, "R19");
    m.r20 = constant(net, state, "R20");
    m.r21 = constant(net, state, "R21");
    m.r22 = constant(net, state, "R22");
    m.r23 = constant(net, state, "R23");
    m.r24 = constant(net, state, "R24");
    m.r25 = constant(net, state, "R25");
    m.r26 = constant(net, state, "R26");
    m.r27 = constant(net, state, "R27");
    m.r28 = constant(net, state, "R28");
    m.r29 = constant(net, state, "R29");
    m.r30 = constant(net, state, "R30");
    m.r31 = constant(net, state, "R31");
    m.r32 = constant(net, state, "R32");
    m.r33 = constant(net, state, "R33");
    m.r34 = constant(net, state, "R34");
    m.r35 = constant(net, state, "R35");
    m.r36 = constant(net, state, "R36");
    m.r37 = constant(net, state, "R37");
    m.r38 = constant(net, state, "R38");
    m.r39 = constant(net, state, "R39");
    m.r40 = constant(net, state, "R40");
    m.t = state.t;
    m.seed(seed);
    m
}

