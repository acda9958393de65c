# The pipeline as a pwsh user expects it (issues 10.1 and 12): dumps as identities, piping between cmdlets,
# closed dumps, paths, filters.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:DwarfVmlinux = @($env:KDUMP_VMLINUX_DEBUG,
        $(if ($HaveFixtures) { $m = Get-TestManifest $FixturesDir; if ($m.vmlinuxDebug) { Join-Path $FixturesDir $m.vmlinuxDebug } }),
        (Get-ChildItem -ErrorAction SilentlyContinue (Join-Path ([Environment]::GetFolderPath('UserProfile')) '.cache/kdump-fixtures/cache/dbg-6.1.*/usr/lib/debug/boot/vmlinux-6.1.0-57-amd64')).FullName) |
        Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'VmcoreTestDump.ps1')
    $script:Sample = Join-Path $SamplesDir 'vmcore.kdump'
    $script:Dir = Join-Path ([IO.Path]::GetTempPath()) "kdump-pipeline-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Dir | Out-Null
    $script:Elf = New-TestElfVmcore -Path (Join-Path $Dir 'one.elf')
    $script:Bracket = New-TestElfVmcore -Path (Join-Path $Dir 'vmcore[1].kdump') -Release '6.1.0-bracket'
    # Runs a script in a child pwsh (a crash there must not take the test run down); returns exit code and output.
    function Invoke-ChildPwsh([string] $Script) {
        $exe = [Environment]::ProcessPath
        $args = @('-NoProfile', '-NonInteractive', '-Command', $Script)
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $out = & $exe (Join-Path $PSHOME 'pwsh.dll') @args 2>&1 }
        else { $out = & $exe @args 2>&1 }
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($out | Out-String) }
    }
}
AfterAll {
    Get-Vmcore | Close-Vmcore
    Remove-Item -LiteralPath $Dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Output records are plain data naming their dump' -Skip:(-not $HaveSample) {
    BeforeAll { $script:V = Open-Vmcore $Sample -Force }
    AfterAll { $V | Close-Vmcore }

    It 'every record carries the dump identity (Id, Name, Path), not the live Vmcore' {
        $p = Get-CrashProcess -Pid 1
        $p.Vmcore | Should -BeOfType 'Kdump.Engine.Model.VmcoreIdentity'
        $p.Vmcore.Id | Should -Be $V.Id
        $p.Vmcore.Path | Should -Be $V.Path
        "$($p.Vmcore)" | Should -Be $V.Path
        foreach ($r in @((Get-CrashSystem), (Get-CrashModule | Select-Object -First 1), (Get-CrashLog -Tail 1),
                (Get-CrashSymbol -Address (Get-CrashSymbol -Name init_task).Address), (Convert-CrashAddress $p.Task), (Read-CrashMemory -Symbol linux_banner -Length 16),
                (Get-CrashIrq | Select-Object -First 1), ($p | Get-CrashVm), (Get-CrashObject -Variable init_task -Member pid))) {
            $r.Vmcore.Id | Should -Be $V.Id -Because $r.GetType().Name
        }
    }
    It 'one process is small in JSON at -Depth 3 (< 4 KB) and in CSV' {
        $p = Get-CrashProcess -Pid 1
        ($p | ConvertTo-Json -Depth 3).Length | Should -BeLessThan 4096
        ($p | ConvertTo-Csv | Out-String).Length | Should -BeLessThan 2048
        ($p | ConvertTo-Json -Depth 3 | ConvertFrom-Json).Vmcore.Path | Should -Be $V.Path
    }
    It 'Group-Object across dumps groups by dump' {
        $w = Open-Vmcore $Sample -Force
        try {
            $g = @(Get-Vmcore | Where-Object Path -eq $Sample | Get-CrashProcess -Pid 1 | Group-Object Vmcore)
            $g.Count | Should -Be 2
            $g | ForEach-Object { $_.Count | Should -Be 1 }
            @(Get-Vmcore | Where-Object Path -eq $Sample | Get-CrashProcess -Pid 1 | Group-Object { $_.Vmcore.Id }).Count | Should -Be 2
        }
        finally { $w | Close-Vmcore }
    }
}

Describe 'A closed dump' -Skip:(-not $HaveSample) {
    It 'every entry point says VmcoreClosed' {
        $v = Open-Vmcore $Sample -Force
        $p = Get-CrashProcess -Pid 1 -Vmcore $v
        $v | Close-Vmcore
        { $p | Get-CrashVm } | Should -Throw -ErrorId 'VmcoreClosed,*'
        { Get-CrashSystem -Vmcore $v } | Should -Throw -ErrorId 'VmcoreClosed,*'
        { Get-CrashProcess -Vmcore $v.Id } | Should -Throw -ErrorId 'VmcoreClosed,*'
        { $p | Convert-CrashAddress 0xffffffff81000000 } | Should -Throw -ErrorId 'VmcoreClosed,*'
        { $v.ReadPhysical(0, [byte[]]::new(8)) } | Should -Throw "*has been closed*"
        { $v.AttachVmlinux($Sample, $false, "Auto", $null) } | Should -Throw "*closed*"
        $v.SymbolSources | Should -Be '(closed)'
    }
    It 'serialising records of a closed dump opened with a DWARF vmlinux does not kill pwsh' -Skip:(-not $DwarfVmlinux) {
        $script = @"
Import-Module '$(Join-Path $ModulePath 'Kdump.psd1')'
Open-Vmcore '$Sample' -Vmlinux '$DwarfVmlinux' | Out-Null
`$p = Get-CrashProcess; `$t = Get-CrashType 'struct mm_struct'
Close-Vmcore
`$j = `$p | ConvertTo-Json -Depth 6
`$null = `$t | ConvertTo-Json -Depth 6
`$null = Get-Vmcore | ConvertTo-Json -Depth 4
'JSON:' + `$j.Length
"@
        $r = Invoke-ChildPwsh $script
        $r.Output | Should -Not -Match 'Fatal error|AccessViolation'
        $r.ExitCode | Should -Be 0
        $r.Output | Should -Match 'JSON:\d+'
    }
}

Describe 'Piping dumps into cmdlets' -Skip:(-not $HaveSample) {
    BeforeAll {
        $script:A = Open-Vmcore $Sample -Force
        $script:B = Open-Vmcore $Elf
    }
    AfterAll { $A, $B | Close-Vmcore }

    It 'Get-Vmcore | Get-CrashProcess runs on each piped dump, not on the current one' {
        (Get-Vmcore -Current).Id | Should -Be $B.Id
        $p = @(Get-Vmcore -Id $A.Id | Get-CrashProcess)
        $p.Count | Should -BeGreaterThan 10
        ($p.Vmcore.Id | Sort-Object -Unique) | Should -Be $A.Id
    }
    It 'Get-Vmcore | Get-CrashSystem binds the piped dump' {
        $s = Get-Vmcore -Id $A.Id | Get-CrashSystem
        $s.Vmcore.Id | Should -Be $A.Id
        $s.Panic | Should -Not -BeNullOrEmpty
    }
    It '-Vmcore takes the object, an Id, a name or a path' -TestCases @(
        @{ How = 'object' }, @{ How = 'Id' }, @{ How = 'name' }, @{ How = 'path' }, @{ How = 'relative path' }
    ) {
        $arg = switch ($How) { 'object' { $A } 'Id' { $A.Id } 'name' { 'vmcore.kdump' } 'path' { $A.Path } 'relative path' { Push-Location $SamplesDir; './vmcore.kdump' } }
        try { $p = Get-CrashProcess -Vmcore $arg -Pid 1 } finally { if ($How -eq 'relative path') { Pop-Location } }
        $p.Vmcore.Id | Should -Be $A.Id
    }
    It 'an unknown -Vmcore is VmcoreNotFound' {
        { Get-CrashSystem -Vmcore 'nosuch.kdump' } | Should -Throw -ErrorId 'VmcoreNotFound,*'
    }
    It 'a record piped to another cmdlet binds its dump by property name' {
        $vm = Get-CrashProcess -Vmcore $A -Pid 1 | Get-CrashVm
        $vm.Vmcore.Id | Should -Be $A.Id
        $vm.Pid | Should -Be 1
    }
    It 'Get-Vmcore -Id / -Name select dumps' {
        (Get-Vmcore -Id $A.Id).Path | Should -Be $A.Path
        (Get-Vmcore -Name 'one.elf').Id | Should -Be $B.Id
        (Get-Vmcore -Name '*.elf').Id | Should -Be $B.Id
        Get-Vmcore -Id 99999 -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'VmcoreNotFound,*'
    }
    It 'Close-Vmcore -Path closes the dump with that file' {
        $c = Open-Vmcore $Bracket
        Close-Vmcore -Path (Join-Path $Dir 'vmcore`[1`].kdump')
        $c.IsOpen | Should -BeFalse
        Close-Vmcore -Path (Join-Path $Dir 'nosuch.elf') -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'VmcoreNotFound,*'
    }
}

Describe 'Open-Vmcore paths' {
    AfterEach { Get-Vmcore | Close-Vmcore }
    It 'opens vmcore[1].kdump by -LiteralPath' {
        (Open-Vmcore -LiteralPath $Bracket).KernelRelease | Should -Be '6.1.0-bracket'
    }
    It 'opens vmcore[1].kdump piped from Get-ChildItem (PSPath)' {
        (Get-ChildItem -LiteralPath $Bracket | Open-Vmcore).KernelRelease | Should -Be '6.1.0-bracket'
        (Get-Item -LiteralPath $Bracket | Open-Vmcore -Force).KernelRelease | Should -Be '6.1.0-bracket'
    }
    It 'opens vmcore[1].kdump by -Path when the pattern matches nothing else' {
        (Open-Vmcore -Path $Bracket).KernelRelease | Should -Be '6.1.0-bracket'
    }
    It 'a <Kind> matching nothing is VmcoreNotFound' -TestCases @(
        @{ Kind = 'path'; Arg = 'nosuch.elf'; Literal = $false }
        @{ Kind = 'wildcard'; Arg = 'nosuch*.elf'; Literal = $false }
        @{ Kind = 'literal path'; Arg = 'nosuch[1].elf'; Literal = $true }
    ) {
        $p = Join-Path $Dir $Arg
        $r = if ($Literal) { Open-Vmcore -LiteralPath $p -ErrorVariable e -ErrorAction SilentlyContinue } else { Open-Vmcore -Path $p -ErrorVariable e -ErrorAction SilentlyContinue }
        $r | Should -BeNullOrEmpty
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'VmcoreNotFound,*'
    }
}

Describe 'Get-CrashProcess filters' -Skip:(-not $HaveSample) {
    BeforeAll { $script:V = Open-Vmcore $Sample -Force }
    AfterAll { $V | Close-Vmcore }
    It 'combine with AND: -Pid 1 -Name nosuch returns nothing' {
        @(Get-CrashProcess -Pid 1 -Name nosuch -ErrorAction SilentlyContinue).Count | Should -Be 0
        $one = Get-CrashProcess -Pid 1
        @(Get-CrashProcess -Pid 1 -Name $one.Command).Count | Should -Be 1
        @(Get-CrashProcess -Pid 1, 2 -Name $one.Command).Pid | Should -Be 1
    }
    It '-Name matching no task writes TaskNotFound like an unknown -Pid' {
        $r = Get-CrashProcess -Name nosuch -ErrorVariable e -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'TaskNotFound,*'
        $e[0].TargetObject | Should -Be 'nosuch'
        Get-CrashProcess -Name 'nosuch*' -ErrorVariable e2 -ErrorAction SilentlyContinue
        $e2.Count | Should -Be 0
    }
}

Describe 'Addresses' -Skip:(-not $HaveSample) {
    BeforeAll {
        $script:V = Open-Vmcore $Sample -Force
        $script:P = Get-CrashProcess -Pid 1
        $script:Hex = '0x{0:x16}' -f $P.Task
    }
    AfterAll { $V | Close-Vmcore }

    It 'Where-Object Task -eq 0xffff… (a negative Int64 to pwsh) matches' {
        $literal = [scriptblock]::Create($Hex).Invoke()[0]
        $literal | Should -BeOfType [long]
        $literal | Should -BeLessThan 0
        @(Get-CrashProcess | Where-Object Task -eq $literal).Pid | Should -Be 1
        @(Get-CrashProcess | Where-Object Task -eq $Hex).Pid | Should -Be 1
        @(Get-CrashProcess | Where-Object { $_.Task -eq $literal }).Pid | Should -Be 1
    }
    It 'is unsigned and shown 0xffff… in lists, CSV and JSON' {
        ($P | Format-List Task | Out-String) | Should -Match "Task\s+:\s+$Hex"
        ($P | ConvertTo-Csv | ConvertFrom-Csv).Task | Should -Be $Hex
        ($P | ConvertTo-Json | ConvertFrom-Json).Task.Hex | Should -Be $Hex
        $P.Task.Value | Should -BeGreaterThan ([ulong]::MaxValue / 2)
        $P.Task | Should -Be ([scriptblock]::Create($Hex).Invoke()[0])
        ([scriptblock]::Create($Hex).Invoke()[0] -eq $P.Task) | Should -BeTrue
        ('{0:x16}' -f $P.Task) | Should -Be $Hex.Substring(2)
        (Get-CrashProcess | Sort-Object Task -Descending | Select-Object -First 1).Task | Should -BeGreaterThan 0
        ($P.Task -shr 12) | Should -Be ($P.Task.Value -shr 12)
        ($P.Task -band 0xfff) | Should -Be ($P.Task.Value % 4096)
        ($P.Task + 8).Value | Should -Be ($P.Task.Value + 8)
    }
    It 'binds from symbols and objects with an Address property' {
        $sym = Get-CrashSymbol -Name init_task
        (Get-CrashSymbol init_task | Convert-CrashAddress).VirtualAddress | Should -Be $sym.Address
        (Get-CrashSymbol init_task | Get-CrashObject -Type task_struct -Member pid).Members[0].Value | Should -Be 0
        (Get-CrashObject -Type task_struct -Address $P.Task -Member pid).Members[0].Value | Should -Be 1
        (Get-CrashObject -Type task_struct -Address $P.Task.Hex -Member pid).Members[0].Value | Should -Be 1
    }
}

Describe 'Memory and objects at addresses' -Skip:(-not $HaveSample) {
    BeforeAll { $script:V = Open-Vmcore $Sample -Force }
    AfterAll { $V | Close-Vmcore }

    It 'Read-CrashMemory <addr> reads kernel virtual memory like rd; physical only with -PhysicalAddress' {
        $banner = Get-CrashSymbol -Name linux_banner
        $b = Read-CrashMemory $banner.Address -Length 13
        $b.AddressSpace | Should -Be 'virtual'
        [Text.Encoding]::ASCII.GetString($b.Bytes) | Should -Be 'Linux version'
        $phys = (Convert-CrashAddress $banner.Address).PhysicalAddress
        $p = Read-CrashMemory -PhysicalAddress $phys -Length 13
        $p.AddressSpace | Should -Be 'physical'
        [Text.Encoding]::ASCII.GetString($p.Bytes) | Should -Be 'Linux version'
    }
    It 'Get-CrashObject at an unmapped address is an AddressNotMapped error, not an object' {
        $r = Get-CrashObject -Type 'struct task_struct' -Address 0xffffc90000000000 -ErrorVariable e -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'AddressNotMapped,*'
    }
    It 'Convert-CrashAddress -Physical beyond the dump''s memory is not Mapped' {
        $far = Convert-CrashAddress 0xffffffffff -Physical
        $far.Status | Should -Be 'NotMapped'
        $near = Convert-CrashAddress 0x1000000 -Physical
        $near.Status | Should -Be 'Mapped'
    }
}

Describe 'Default views at 80 columns' -Skip:(-not $HaveSample) {
    BeforeAll {
        $script:V = Open-Vmcore $Sample -Force
        $script:Sym = Get-CrashSymbol -Name init_task
        function Test-View([string] $Text, [string[]] $Expect) {
            foreach ($l in $Text -split "`r?`n") { $l.TrimEnd().Length | Should -BeLessOrEqual 80 -Because "line '$l'" }
            foreach ($e in $Expect) { $Text | Should -Match ([regex]::Escape($e)) }
        }
    }
    AfterAll { $V | Close-Vmcore }

    It 'Convert-CrashAddress keeps both addresses, the page size and the status' {
        $t = Convert-CrashAddress $Sym.Address
        Test-View (Convert-CrashAddress $Sym.Address | Out-String -Width 80) @(('{0:x16}' -f $Sym.Address), ('{0:x16}' -f $t.PhysicalAddress), "$($t.PageSize) Mapped")
        Test-View (Convert-CrashAddress 0x1000000 -Physical | Out-String -Width 80) @('0000000001000000', 'Mapped')
    }
    It 'Get-CrashObject shows its type, address and member values' {
        Test-View (Get-CrashObject -Variable init_task -Member pid, comm | Out-String -Width 80) @('struct task_struct 0x', '<init_task>', 'pid = 0', 'comm = "swapper/0"')
    }
    It 'Read-CrashMemory''s hexdump of kernel virtual memory fits with its ASCII column' {
        $banner = Get-CrashSymbol -Name linux_banner
        Test-View (Read-CrashMemory $banner.Address -Length 48 | Out-String -Width 80) @(('{0:x16}' -f $banner.Address), '|Linux version')
        Test-View (Read-CrashMemory -PhysicalAddress 0x1000000 -Length 32 | Out-String -Width 80) @('01000000  ')
        Test-View (Read-CrashMemory $banner.Address -Count 4 -Width 64 | Out-String -Width 80) @('linux_banner')
    }
    It 'Get-Vmcore, Get-CrashProcess and Get-CrashSymbol keep their key columns' {
        Test-View (Get-Vmcore | Out-String -Width 80) @('vmcore.kdump', 'KdumpCompressed', $V.KernelRelease, 'MiB')
        $p = Get-CrashProcess -Pid 1
        Test-View (Get-CrashProcess -Pid 1 | Out-String -Width 80) @(('{0:x16}' -f $p.Task), $p.Command)
        Test-View (Get-CrashSymbol -Address $Sym.Address | Out-String -Width 80) @(('{0:x16}' -f $Sym.Address), 'init_task')
    }
    It 'Get-CrashRunQueue, Get-CrashTimer, Get-CrashSignal and Get-CrashTriage fit with crash''s key columns' {
        $rq = @(Get-CrashRunQueue)[0]
        Test-View (Get-CrashRunQueue | Out-String -Width 80) @(('{0:x16}' -f $rq.RunQueue), $rq.CurrentCommand)
        $tm = @(Get-CrashTimer)[0]
        Test-View (Get-CrashTimer | Out-String -Width 80) @(('{0:x16}' -f $tm.Timer), $tm.FunctionName)
        $hr = @(Get-CrashTimer -HighResolution)[0]
        Test-View (Get-CrashTimer -HighResolution | Out-String -Width 80) @(('{0:x16}' -f $hr.Timer), $hr.FunctionName)
        $sg = Get-CrashSignal -Pid 1
        Test-View (Get-CrashSignal -Pid 1 | Out-String -Width 80) @('init', ('{0:x16}' -f $sg.Blocked), ('{0:x16}' -f $sg.Caught))
        $t = Get-CrashTriage
        Test-View ($t | Out-String -Width 80) @($t.SignatureHash, 'Sysrq')
    }
}
