BeforeDiscovery {
    # -Skip conditions are evaluated while Pester discovers the tests, before BeforeAll runs.
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if ($HaveSample) { $script:V = Open-Vmcore (Join-Path $SamplesDir 'vmcore.kdump') }
    # crash 8.0.6's irq -s on the same dump: irq, one count per CPU, chip, name
    $script:Crash = if ($HaveSample) {
        Get-Content (Join-Path $SamplesDir 'crash/irq.txt') | Where-Object { $_ -match '^\s*(\d+):\s+(\d+)\s+(\d+)\s+(\S+)\s+(.+?)\s*$' } | ForEach-Object {
            [pscustomobject]@{ Irq = [int]$Matches[1]; Counts = [uint64[]]@($Matches[2], $Matches[3]); Chip = $Matches[4]; Name = $Matches[5] }
        }
    }
}
AfterAll { if ($V) { $V | Close-Vmcore } }

Describe 'Get-CrashIrq' -Skip:(-not $HaveSample) {
    Context 'statistics (irq -s)' {
        It 'has every line and count crash has' {
            $ours = Get-CrashIrq -Statistics
            $ours.Irq | Should -Be $Crash.Irq
            foreach ($c in $Crash) {
                $o = $ours | Where-Object Irq -eq $c.Irq
                $o.CountsPerCpu | Should -Be $c.Counts -Because "IRQ $($c.Irq)"
                $o.CrashChip | Should -Be $c.Chip
                $o.Name | Should -Be $c.Name
            }
        }
        It 'prints /proc/interrupts chip text' {
            (Get-CrashIrq -Statistics -Irq 0).Chip | Should -Be 'IO-APIC 2-edge'
            (Get-CrashIrq -Statistics | Out-String) | Should -Match '26\s+0\s+513\s+513 PCI-MSI 32770-edge\s+virtio0-req.1'
        }
        It 'keeps only the -Cpu columns' {
            $o = Get-CrashIrq -Statistics -Cpu 1 -Irq 26
            $o.Cpus | Should -Be @(1)
            $o.Total | Should -Be 513
        }
    }
    Context 'descriptor list (irq)' {
        It 'lists used and unused descriptors' {
            $all = Get-CrashIrq
            ($all | Where-Object Irq -eq 0).Name | Should -Be 'timer'
            ($all | Where-Object Irq -eq 2).Action | Should -Be 0
            (Get-CrashIrq -Cpu 1 | Where-Object { $_.Affinity.Count -eq 1 }).Irq | Should -Be @(26, 29)
        }
    }
    Context 'errors' {
        It 'reports an IRQ without a descriptor by id' {
            $r = Get-CrashIrq -Irq 4000 -ErrorVariable e -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $e.Count | Should -Be 1
            $e[0].FullyQualifiedErrorId | Should -BeLike 'IrqNotFound,*'
        }
        It 'refuses a CPU the dump does not have' {
            Get-CrashIrq -Statistics -Cpu 9 -ErrorVariable e -ErrorAction SilentlyContinue
            $e[0].FullyQualifiedErrorId | Should -BeLike 'CpuNotFound,*'
        }
    }
}
