BeforeDiscovery {
    # -Skip conditions are evaluated while Pester discovers the tests, before BeforeAll runs.
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if ($HaveSample) {
        $script:V = Open-Vmcore (Join-Path $SamplesDir 'vmcore.kdump')
        $script:Pagemap = @((Get-TestManifest $SamplesDir).truth.pagemap)
    }
    function script:CrashVtop([string] $Name, [string] $Dir = (Join-Path $SamplesDir 'crash')) {
        $text = Get-Content -Raw (Join-Path $Dir $Name)
        $null = $text -match 'VIRTUAL\s+PHYSICAL\s*\n\s*([0-9a-f]+)\s+(\S+)'
        [pscustomobject]@{
            Address  = [Convert]::ToUInt64($Matches[1], 16)
            Physical = $Matches[2]
            Levels   = @([regex]::Matches($text, '(?m)^\s*(PGD|P4D|PUD|PMD|PTE):\s+([0-9a-f]+)\s+=>\s+([0-9a-f]+)') |
                ForEach-Object { '{0} {1} {2}' -f $_.Groups[1].Value, $_.Groups[2].Value, $_.Groups[3].Value })
            NoSwapLocation = $text -match 'cannot determine swap location'
            Swap     = if ($text -match 'SWAP:\s+(\S+)\s+OFFSET:\s+(\d+)') { @{ Device = $Matches[1]; Offset = [uint64]$Matches[2] } }
            Vma      = if ($text -match 'VMA\s+START\s+END\s+FLAGS\s+FILE\s*\n\s*([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)') {
                @($Matches[1..4] | ForEach-Object { [Convert]::ToUInt64($_, 16) }) }
        }
    }
}
AfterAll { if ($V) { $V | Close-Vmcore } }

Describe 'Convert-CrashAddress on the sample dump' -Skip:(-not $HaveSample) {
    It 'every pagemap truth entry translates to its pfn or swap type/offset through -Pid' {
        $Pagemap.Count | Should -BeGreaterThan 10
        foreach ($e in $Pagemap) {
            $t = Convert-CrashAddress ([Convert]::ToUInt64($e.address.Substring(2), 16)) -Pid $e.pid
            if ($e.present) {
                $t.Status | Should -Be 'Mapped' -Because $e.address
                $t.PhysicalAddress -shr 12 | Should -Be $e.pfn -Because $e.address
            } elseif ($e.swapped) {
                $t.Status | Should -Be 'Swapped' -Because $e.address
                $t.SwapType | Should -Be $e.swapType
                $t.SwapOffset | Should -Be $e.swapOffset
                $t.SwapDevice | Should -Not -BeNullOrEmpty
            }
            $t.Pid | Should -Be $e.pid
            $t.Vma.Start | Should -BeLessOrEqual $t.VirtualAddress
            $t.Vma.End | Should -BeGreaterThan $t.VirtualAddress
        }
    }
    It 'agrees with crash vtop for a present page (physical address, every entry, VMA)' {
        $c = CrashVtop 'vtop-present.txt'
        $t = Get-CrashProcess -Pid 127 | Convert-CrashAddress -Address $c.Address
        $t.PhysicalAddress | Should -Be ([Convert]::ToUInt64($c.Physical, 16))
        @($t.Levels | ForEach-Object { '{0} {1:x} {2:x}' -f $_.Name, $_.EntryAddress, $_.EntryValue }) | Should -Be $c.Levels
        @($t.Vma.Vma, $t.Vma.Start, $t.Vma.End, $t.Vma.Flags) | Should -Be $c.Vma
    }
    It 'agrees with crash vtop for a swapped page (PTE, swap device and offset)' {
        $c = CrashVtop 'vtop-swapped.txt'
        $t = Get-CrashProcess -Pid 127 | Convert-CrashAddress -Address $c.Address
        $t.Status | Should -Be 'Swapped'
        @($t.Levels | ForEach-Object { '{0} {1:x} {2:x}' -f $_.Name, $_.EntryAddress, $_.EntryValue }) | Should -Be $c.Levels
        $t.SwapDevice | Should -Be $c.Swap.Device
        $t.SwapOffset | Should -Be $c.Swap.Offset
        @($t.Vma.Vma, $t.Vma.Start, $t.Vma.End, $t.Vma.Flags) | Should -Be $c.Vma
        $t | Out-String -Width 200 | Should -Match ([regex]::Escape("$($c.Swap.Device) $($c.Swap.Offset)"))
    }
    It '-Task and -Pgd give the same answer as -Pid' {
        $p = Get-CrashProcess -Pid 127
        $a = 0x7fc59412d000
        $byPid = Convert-CrashAddress $a -Pid 127
        (Convert-CrashAddress $a -Task ('{0:x}' -f $p.Task)).PhysicalAddress | Should -Be $byPid.PhysicalAddress
        $pgd = (Get-CrashVm -Pid 127).Pgd
        (Convert-CrashAddress $a -Pgd $pgd).PhysicalAddress | Should -Be $byPid.PhysicalAddress
    }
    It 'a kernel address with -Pid goes through the kernel tables' {
        $k = (Get-CrashSymbol _stext).Address
        (Convert-CrashAddress $k -Pid 127).PhysicalAddress | Should -Be (Convert-CrashAddress $k).PhysicalAddress
    }
    It 'a kernel thread is TaskHasNoMm, an unknown pid TaskNotFound' {
        Convert-CrashAddress 0x7fc58b05a000 -Pid 2 -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'TaskHasNoMm,*'
        Convert-CrashAddress 0x7fc58b05a000 -Pid 999999 -ErrorVariable e2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e2[0].FullyQualifiedErrorId | Should -BeLike 'TaskNotFound,*'
    }
}

Describe 'Convert-CrashAddress on every fixture kernel (6.1, 6.12, 7.x)' -Skip:(-not $HaveFixtures) {
    It 'agrees with each kernel''s crash vtop -c answers through -Pid, and its kernel vtop and ptov invert each other' {
        $kernels = 0
        foreach ($fx in $FixturesDirs) {
            $FM = Get-TestManifest $fx
            $dir = Join-Path $fx 'crash'
            $asked = @{}
            foreach ($m in [regex]::Matches((Get-Content -Raw (Join-Path $dir 'commands.txt')), '(?m)^vtop -c (\d+) (?:0x)?([0-9a-f]+)\s*$')) {
                $asked[[Convert]::ToUInt64($m.Groups[2].Value, 16)] = [int]$m.Groups[1].Value
            }
            $asked.Count | Should -BeGreaterThan 0 -Because $fx
            $v = Open-Vmcore -Path (Get-CrashReferenceDumpFiles $fx $FM)
            try {
                foreach ($f in Get-ChildItem $dir -Filter 'vtop-*.txt') {
                    $cv = CrashVtop $f.Name $dir
                    $pid_ = $asked[$cv.Address]
                    $t = Convert-CrashAddress $cv.Address -Pid $pid_ -Vmcore $v
                    @($t.Levels | ForEach-Object { '{0} {1:x} {2:x}' -f $_.Name, $_.EntryAddress, $_.EntryValue }) | Should -Be $cv.Levels -Because "$fx $($f.Name)"
                    if ($cv.Physical -ne '(not') { $t.PhysicalAddress | Should -Be ([Convert]::ToUInt64($cv.Physical, 16)) -Because "$fx $($f.Name)" }
                    elseif ($cv.NoSwapLocation) {
                        # crash 8.0.6 cannot decode 6.12's swap entry: the guest's own pagemap is the reference
                        $e = @($FM.truth.pagemap | Where-Object { $_.pid -eq $pid_ -and [Convert]::ToUInt64($_.address.Substring(2), 16) -eq $cv.Address })[0]
                        $e.swapped | Should -BeTrue -Because "$fx $($f.Name)"
                        $t.Status | Should -Be 'Swapped'
                        $t.SwapOffset | Should -Be $e.swapOffset -Because "$fx $($f.Name)"
                        continue
                    }
                    else {
                        $t.Status | Should -Be 'Swapped' -Because "$fx $($f.Name)"
                        $t.SwapDevice | Should -Be $cv.Swap.Device
                        $t.SwapOffset | Should -Be $cv.Swap.Offset
                    }
                    @($t.Vma.Vma, $t.Vma.Start, $t.Vma.End, $t.Vma.Flags) | Should -Be $cv.Vma -Because "$fx $($f.Name)"
                    if ($t.Status -eq 'Mapped') {
                        # ptov of the page, then kernel vtop of that address, gives the page back
                        $k = Convert-CrashAddress $t.PhysicalAddress -Physical -Vmcore $v
                        $k.Status | Should -Be 'Mapped'
                        (Convert-CrashAddress $k.VirtualAddress -Vmcore $v).PhysicalAddress | Should -Be $t.PhysicalAddress -Because "$fx $($f.Name)"
                    }
                }
                # a task_struct (direct map) and the kernel image (init_task) through the kernel tables
                $hog = Get-CrashProcess -Pid @($asked.Values)[0] -Vmcore $v
                $ts = Convert-CrashAddress $hog.Task -Vmcore $v
                $ts.Status | Should -Be 'Mapped' -Because $fx
                (Convert-CrashAddress $ts.PhysicalAddress -Physical -Vmcore $v).VirtualAddress | Should -Be $hog.Task -Because $fx
                (Convert-CrashAddress (Get-CrashSymbol init_task -Vmcore $v).Address -Vmcore $v).Status | Should -Be 'Mapped' -Because $fx
                $kernels++
            }
            finally { $v | Close-Vmcore }
        }
        $kernels | Should -Be @($FixturesDirs).Count
    }
}
